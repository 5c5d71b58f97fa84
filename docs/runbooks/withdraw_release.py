"""Withdraw a source's latest release: the manual S3 steps of docs/runbooks/withdraw-release.md.

There is no `civic` command for this on purpose: withdrawing is an incident decision, taken
by a person and recorded in the incident ticket. This file only spells the steps out
exactly, with the platform's own helpers, so that they work on any S3 API (AWS, MinIO, the
embedded server) and are tested (tests/integration/test_runbooks.py):

1. check that `<source>/latest.json` points at the release to withdraw (only the latest
   release is withdrawn this way: a later release may list an older one's record files);
2. find the newest earlier release that has a manifest, and verify every one of its files
   against that manifest (a damaged fallback is refused);
3. rewrite `<source>/latest.json` to point at it (conditional on the pointer not having
   changed since step 1), or delete the pointer when there is no earlier release;
4. delete every object under `<source>/releases/<release id>/`;
5. in the local mirror (`exports/<source>/`), switch the `latest` link the same way and
   delete the release's folder.

Without APPLY=yes it only prints what it would do. Run it from the repository's top level
with the platform's connections loaded (`set -a; . .local/env; set +a`), or in a platform
container of the compose stack:

    export SOURCE=signalements WITHDRAW=2026-11-25T0000Z-1a2b3c4d
    .venv/bin/python docs/runbooks/withdraw_release.py              # prints the plan
    APPLY=yes .venv/bin/python docs/runbooks/withdraw_release.py    # does it
"""

from __future__ import annotations

import os
import shutil
import sys

from include.core.connections import S3_CONN_ID, get_connection, s3_client
from include.core.settings import load_settings
from include.core.zones import list_objects, sse_arguments
from include.publish.jsonfile import json_bytes
from include.publish.manifest import MANIFEST_NAME
from include.publish.mirror import LATEST_NAME, mirrored_latest
from include.publish.run import check_release_id
from include.publish.s3_release import (
    NO_CACHE,
    current_release,
    pointer_key,
    release_prefix,
    verify_release,
)
from include.services.stack import LocalPlatform


def main() -> int:
    source = os.environ["SOURCE"]
    withdrawn = check_release_id(os.environ["WITHDRAW"])
    apply = os.environ.get("APPLY") == "yes"
    settings = load_settings()
    client = s3_client(get_connection(S3_CONN_ID, LocalPlatform(settings).process_env()))
    bucket = settings.public_bucket

    # 1. The pointer names the release to withdraw.
    pointer = current_release(client, bucket, source)
    if pointer is None or pointer.release_id != withdrawn:
        print(
            f"s3://{bucket}/{pointer_key(source)} points at "
            f"{pointer.release_id if pointer else 'nothing'}, not {withdrawn}: this procedure "
            "withdraws the latest release only; escalate (see withdraw-release.md)",
            file=sys.stderr,
        )
        return 1
    etag = client.head_object(Bucket=bucket, Key=pointer_key(source))["ETag"]

    # 2. The release to fall back to: the newest earlier one with a manifest, verified.
    committed = {
        obj.key.removeprefix(f"{source}/releases/").split("/")[0]
        for obj in list_objects(client, bucket, f"{source}/releases/")
        if obj.key.endswith("/" + MANIFEST_NAME)
    }
    earlier = sorted(release for release in committed if release < withdrawn)
    previous = verify_release(client, bucket, source, earlier[-1]) if earlier else None
    doomed = [obj.key for obj in list_objects(client, bucket, release_prefix(source, withdrawn))]
    mirror = settings.exports_dir / source
    print(f"withdraw s3://{bucket}/{release_prefix(source, withdrawn)} ({len(doomed)} objects)")
    if previous is None:
        print(f"no earlier release: delete s3://{bucket}/{pointer_key(source)}")
    else:
        print(
            f"point s3://{bucket}/{pointer_key(source)} at {previous.release_id} "
            f"(verified: {previous.files} files, manifest sha256 {previous.manifest_sha256})"
        )
    print(f"mirror {mirror}: latest -> {previous.release_id if previous else 'nothing'}")
    if not apply:
        print("dry run: nothing changed; set APPLY=yes to do it")
        return 0

    # 3. The pointer, only if nobody moved it meanwhile (If-Match on the ETag read in 1).
    if previous is None:
        client.delete_object(Bucket=bucket, Key=pointer_key(source))
    else:
        body = json_bytes(
            {
                "source": source,
                "release_id": previous.release_id,
                "manifest": release_prefix(source, previous.release_id) + MANIFEST_NAME,
                "manifest_sha256": previous.manifest_sha256,
            }
        )
        client.put_object(
            Bucket=bucket,
            Key=pointer_key(source),
            Body=body,
            ContentType="application/json",
            CacheControl=NO_CACHE,
            IfMatch=etag,
            **sse_arguments(settings),
        )

    # 4. The release's objects, manifest last: a reader following an old pointer meanwhile
    # finds a release without a manifest, which is not a release.
    for key in sorted(doomed, key=lambda k: k.endswith("/" + MANIFEST_NAME)):
        client.delete_object(Bucket=bucket, Key=key)

    # 5. The local mirror: the link switched by rename, as the mirror itself does it.
    if mirrored_latest(settings.exports_dir, source) == withdrawn:
        link = mirror / LATEST_NAME
        if previous is None:
            link.unlink()
        else:
            temporary = mirror / f".{LATEST_NAME}-{previous.release_id}"
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(previous.release_id, target_is_directory=True)
            os.replace(temporary, link)
    shutil.rmtree(mirror / withdrawn, ignore_errors=True)
    now = previous.release_id if previous else "none"
    print(f"withdrawn {source}/{withdrawn}; latest is {now}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
