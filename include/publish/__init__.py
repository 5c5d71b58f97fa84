"""The public open-data release of a source: build, publish to S3, mirror locally.

A release is a folder of files: per table a CSV (UTF-8, comma, formula-safe)
and a Parquet file, plus `datapackage.json` (Frictionless, French field
descriptions), `README.md` (French; what the data is, how it was protected,
Licence Ouverte 2.0; how to verify it), `manifest.json` (rows, bytes, SHA-256 and
schema per file, k/l and suppression counts per table, run id and pipeline version)
and, when the publish stage hands it the public audit log, `ledger_checkpoint.json`
and `ledger_proofs.json` (a signed checkpoint of the audit ledger and its proofs,
`include.audit.public_log`; checked by `civic audit verify-release`,
`public_verification`).

    files = build_release(config, run, staging_dir, records=..., anonymization=...,
                          aggregates=[...], checks=[...])      # gates, then files
    published = publish_release(client, bucket, files, sse_arguments(settings))
    mirror_release(files, settings.exports_dir)

A failed gate raises `PublicationBlockedError` before anything is written; a
failed verification leaves `latest` where it was; a rerun of the same run is a
no-op. See each module for the reasons behind its choices.
"""

from include.publish.build import build_release
from include.publish.errors import (
    PublicationBlockedError,
    PublishError,
    ReleaseConflictError,
    ReleaseVerificationError,
)
from include.publish.manifest import CheckResult
from include.publish.mirror import MirroredRelease, mirror_release, mirrored_latest
from include.publish.release_files import ReleaseFiles, load_release
from include.publish.run import RunInfo
from include.publish.s3_release import (
    PublishedRelease,
    ReleasePointer,
    VerifiedRelease,
    current_release,
    publish_release,
    verify_release,
)
from include.publish.summaries import summarize_anonymization
from include.publish.tables import AggregateInput

__all__ = [
    "AggregateInput",
    "CheckResult",
    "MirroredRelease",
    "PublicationBlockedError",
    "PublishError",
    "PublishedRelease",
    "ReleaseConflictError",
    "ReleaseFiles",
    "ReleasePointer",
    "ReleaseVerificationError",
    "RunInfo",
    "VerifiedRelease",
    "build_release",
    "current_release",
    "load_release",
    "mirror_release",
    "mirrored_latest",
    "publish_release",
    "summarize_anonymization",
    "verify_release",
]
