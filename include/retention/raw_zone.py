"""Raw-zone retention: personal data is kept no longer than each source's `retention_days`.

Raw objects live under `<source>/<YYYY-MM-DD>/...`, the date being the delivery
partition. An object whose partition is older than the source's retention on
the run's reference date is deleted. The reference date comes from the DAG
run's data interval, never from the wall clock, so a rerun deletes the same
objects. Objects whose key carries no date are reported, never deleted
blindly; objects stored without encryption are reported for the ingest to
quarantine.

The work zone's copies of the same personal data (quarantined raw lines, pre-scrub
chunks) follow the same retention in `include.retention.work_zone`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from include.core.source_config import SourceConfig
from include.core.zones import list_objects, object_encryption, partition_date

_DELETE_BATCH = 1000  # the S3 API's limit for one DeleteObjects call


@dataclass
class RetentionReport:
    source: str
    as_of: str
    cutoff: str
    kept: int = 0
    deleted: int = 0
    bytes_deleted: int = 0
    unencrypted: list[str] = field(default_factory=list)
    undated: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def enforce_retention(
    client: Any, bucket: str, source: SourceConfig, as_of: date
) -> RetentionReport:
    """Delete the source's raw objects past retention on `as_of`; report everything seen."""
    cutoff = as_of - timedelta(days=source.retention_days)
    report = RetentionReport(source.name, as_of.isoformat(), cutoff.isoformat())
    expired: list[str] = []
    for obj in list_objects(client, bucket, f"{source.name}/"):
        day = partition_date(obj.key, source.name)
        if day is None:
            report.undated.append(obj.key)
        elif day < cutoff:
            expired.append(obj.key)
            report.bytes_deleted += obj.size
        else:
            report.kept += 1
            if not object_encryption(client, bucket, obj.key):
                report.unencrypted.append(obj.key)
    report.deleted = delete_keys(client, bucket, expired)
    return report


def delete_keys(client: Any, bucket: str, keys: list[str]) -> int:
    """Delete `keys` from `bucket` in batches the S3 API accepts; return how many.

    Fails on the first batch the server refuses in part, naming the first key it
    kept: retention must not report as deleted what is still there.
    """
    for start in range(0, len(keys), _DELETE_BATCH):
        batch = keys[start : start + _DELETE_BATCH]
        response = client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise RuntimeError(
                f"could not delete {len(errors)} expired object(s) from s3://{bucket}, "
                f"first {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )
    return len(keys)
