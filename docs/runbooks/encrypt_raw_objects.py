"""Encrypt the raw zone's unencrypted objects in place: the steps of
docs/runbooks/raw-zone-unencrypted.md, spelt out with the platform's own helpers so that
they work on any S3 API (AWS, MinIO, the embedded server) and are tested
(tests/integration/test_runbooks.py).

1. print the raw bucket's default encryption and every object stored without server-side
   encryption (key, size, date), the objects `civic_raw_zone_unencrypted_objects` counts;
2. with APPLY=yes: set the bucket's default encryption again (`ensure_buckets`, the call
   `civic services up` and deploy/provision.py make), then copy each of those objects onto
   itself with the platform's encryption (`CIVIC_S3_SSE`, `CIVIC_S3_KMS_KEY_ID`).

A copy onto itself gives the object a new version (new LastModified and ETag): ingest
quarantined the unencrypted version unread (`unencrypted_object`) and takes the encrypted
one at its next run; rows already ingested from another version count as duplicates.

Run it from the repository's top level with the platform's connections loaded
(`set -a; . .local/env; set +a`), or in a platform container of the compose stack:

    .venv/bin/python docs/runbooks/encrypt_raw_objects.py              # lists them
    APPLY=yes .venv/bin/python docs/runbooks/encrypt_raw_objects.py    # encrypts them
"""

from __future__ import annotations

import os

from include.core.connections import S3_CONN_ID, get_connection, s3_client
from include.core.settings import load_settings
from include.core.zones import bucket_encryption, ensure_buckets, list_objects, sse_arguments
from include.services.stack import LocalPlatform


def main() -> int:
    apply = os.environ.get("APPLY") == "yes"
    settings = load_settings()
    client = s3_client(get_connection(S3_CONN_ID, LocalPlatform(settings).process_env()))
    bucket = settings.raw_bucket
    print(f"s3://{bucket}: default encryption {bucket_encryption(client, bucket) or 'NONE'}")
    plain = [
        obj
        for obj in list_objects(client, bucket)
        if not client.head_object(Bucket=bucket, Key=obj.key).get("ServerSideEncryption")
    ]
    for obj in plain:
        print(f"unencrypted: {obj.key} ({obj.size} bytes, {obj.last_modified:%Y-%m-%d %H:%M})")
    print(f"{len(plain)} unencrypted object(s)")
    if not apply:
        print("dry run: nothing changed; set APPLY=yes to encrypt them")
        return 0
    ensure_buckets(client, settings)
    for obj in plain:
        client.copy_object(
            Bucket=bucket,
            Key=obj.key,
            CopySource={"Bucket": bucket, "Key": obj.key},
            MetadataDirective="COPY",
            **sse_arguments(settings),
        )
    left = [
        obj.key
        for obj in plain
        if not client.head_object(Bucket=bucket, Key=obj.key).get("ServerSideEncryption")
    ]
    if left:
        print(f"still unencrypted: {left}")
        return 1
    algorithm = sse_arguments(settings)["ServerSideEncryption"]
    print(f"encrypted {len(plain)} object(s) with {algorithm}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
