"""The S3 zones (raw, work, public) and the encryption rules that guard them.

The raw and work zones hold personal data: they get default server-side
encryption and a public-access block. Because some S3 servers ignore bucket
policy conditions (moto does), "encrypted only" is also enforced in code: the
ingest reads an object only after `require_encrypted` has seen its SSE header.

The public zone is where citizens download the releases: anyone may read an
object in it (a bucket policy granting `s3:GetObject` to every principal), and
nothing else: no listing, no write, no other bucket. A release's page and its
`latest.json` tell readers which keys exist, so listing adds nothing but a
crawl of every past release.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from include.core.settings import Settings

# The statement of the public zone's bucket policy (`anonymous_read_policy`).
PUBLIC_READ_SID = "CitizensReadReleases"


class UnencryptedObjectError(RuntimeError):
    """A raw-zone object is stored without server-side encryption: never read it."""


@dataclass(frozen=True)
class BucketState:
    name: str
    zone: str
    created: bool
    encryption: str | None


def sse_arguments(settings: Settings) -> dict[str, str]:
    """The put_object keyword arguments that encrypt an object as the settings ask."""
    args = {"ServerSideEncryption": settings.sse}
    if settings.sse == "aws:kms" and settings.kms_key_id:
        args["SSEKMSKeyId"] = settings.kms_key_id
    return args


def anonymous_read_policy(bucket: str) -> dict[str, Any]:
    """The public zone's bucket policy: anyone reads its objects; nothing else is granted."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": PUBLIC_READ_SID,
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }


def ensure_buckets(client: Any, settings: Settings) -> list[BucketState]:
    """Create the zone buckets if missing; encryption by default on every one of them, the
    private zones blocked from any public access, the public zone readable by anyone."""
    states = []
    for zone, name in (
        ("raw", settings.raw_bucket),
        ("work", settings.work_bucket),
        ("public", settings.public_bucket),
    ):
        created = False
        try:
            client.head_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
            client.create_bucket(
                Bucket=name,
                CreateBucketConfiguration={"LocationConstraint": client.meta.region_name},
            )
            created = True
        rule: dict[str, Any] = {"SSEAlgorithm": settings.sse}
        if settings.sse == "aws:kms" and settings.kms_key_id:
            rule["KMSMasterKeyID"] = settings.kms_key_id
        client.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": True}]
            },
        )
        if zone == "public":
            client.put_bucket_policy(Bucket=name, Policy=json.dumps(anonymous_read_policy(name)))
        else:
            client.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
        states.append(BucketState(name, zone, created, bucket_encryption(client, name)))
    return states


def bucket_encryption(client: Any, bucket: str) -> str | None:
    try:
        config = client.get_bucket_encryption(Bucket=bucket)
    except ClientError:
        return None
    rules = config["ServerSideEncryptionConfiguration"]["Rules"]
    return rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] if rules else None


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    last_modified: Any


def list_objects(client: Any, bucket: str, prefix: str = "") -> Iterator[StoredObject]:
    """Every object under a prefix, page by page (never the whole listing in memory)."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield StoredObject(item["Key"], item["Size"], item["LastModified"])


def object_encryption(client: Any, bucket: str, key: str) -> str | None:
    """The object's server-side encryption algorithm as the server reports it, or None."""
    return client.head_object(Bucket=bucket, Key=key).get("ServerSideEncryption")


def require_encrypted(client: Any, bucket: str, key: str) -> str:
    """Return the object's SSE algorithm, or raise if it is stored in clear."""
    algorithm = object_encryption(client, bucket, key)
    if not algorithm:
        raise UnencryptedObjectError(
            f"s3://{bucket}/{key} is stored without server-side encryption; "
            "it is quarantined and will not be read"
        )
    return algorithm


def partition_date(key: str, source: str) -> date | None:
    """The delivery date in `<source>/<YYYY-MM-DD>/...`, or None if the key has none."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != source:
        return None
    try:
        return date.fromisoformat(parts[1])
    except ValueError:
        return None
