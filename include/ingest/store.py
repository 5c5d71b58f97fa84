"""Writing to the private work bucket: every object encrypted, stale parts removed.

WHY: the work zone holds personal data (validated rows, quarantined raw lines), so
every put carries the platform's server-side encryption arguments explicitly,
whatever the bucket's default. A rerun that produces fewer parts than an earlier
attempt deletes the leftovers, so a run's prefix always holds exactly one result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from include.core.settings import Settings
from include.core.zones import sse_arguments
from include.ingest.errors import IngestError


class ObjectSink(Protocol):
    """Where the ingest puts its outputs (a bucket; a dict in unit tests)."""

    def put(self, key: str, body: bytes, content_type: str) -> None: ...


class S3Sink:
    """The work bucket, through a boto3 client."""

    def __init__(self, client: Any, settings: Settings) -> None:
        self.client = client
        self.bucket = settings.work_bucket
        self._sse = sse_arguments(settings)

    def put(self, key: str, body: bytes, content_type: str) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, **self._sse
            )
        except (ClientError, BotoCoreError) as exc:
            raise IngestError(
                f"could not write s3://{self.bucket}/{key}: {exc}. Check that the work bucket "
                "exists (`civic services up` creates it) and that the credentials may write to it."
            ) from exc

    def delete_others(self, prefixes: Iterable[str], keep: set[str]) -> list[str]:
        """Delete the objects under `prefixes` that are not in `keep`; return their keys."""
        stale = []
        paginator = self.client.get_paginator("list_objects_v2")
        for prefix in prefixes:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                listed = (item["Key"] for item in page.get("Contents", ()))
                stale += [key for key in listed if key not in keep]
        for start in range(0, len(stale), 1000):  # delete_objects takes at most 1,000 keys
            batch = [{"Key": key} for key in stale[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return stale
