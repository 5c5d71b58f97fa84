"""Platform settings that are not connections: bucket names, encryption, local paths,
how much one raw object may hold.

Read once from the environment (`CIVIC_*` variables) into a validated, frozen
model and passed down; nothing deeper in the code reads the environment.

Read limits (`CIVIC_MAX_OBJECT_BYTES`, `CIVIC_MAX_LINE_BYTES`): raw objects come
from outside, and a 1 MB gzip can expand to gigabytes. The ingest streams, so its
memory does not grow with an object; the limits bound what one object may cost in
time and in work-zone writes, and what one line may cost in memory (a line is held
whole while it is parsed). An object over its limit is quarantined whole (none of its
rows published); a line over its limit costs only its own row.
- 512 MiB decompressed per object: a day's delivery of a large city (a million
  submissions of ~300 bytes) is ~300 MB, so real objects pass with room to spare,
  while a bomb is stopped after a second or two of decompression. Bigger deliveries
  can be split into several objects, or the limit raised.
- 1 MiB per line (a CSV record spanning lines counts as one): the longest free text a
  source accepts is 10,000 characters (≤ 40 kB in UTF-8) and the longest pastes
  seen in exports reach 200 kB; a line over 1 MiB is not a submission. Only that line
  is quarantined (with an excerpt); it costs a few MiB while it is parsed.

Chunk size (`CIVIC_CHUNK_ROWS`, 50,000 rows): the ingest cuts a run's valid rows into
chunks of the work zone, and a chunk is what one scrub task (or one turn of it) takes:
about a minute of scrubbing on two cores. Smaller chunks spread a day over more Celery
workers and bound a retry's repeated work, at the cost of a task's start-up per chunk;
larger ones the reverse. A run's chunks are fixed when it is
ingested, so a change applies from the next run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROJECT_DIR = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


class SettingsError(ValueError):
    """An environment variable holds a value the platform cannot use."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    raw_bucket: str = Field("civic-raw", pattern=r"^[a-z0-9][a-z0-9.-]{2,62}$")
    work_bucket: str = Field("civic-work", pattern=r"^[a-z0-9][a-z0-9.-]{2,62}$")
    public_bucket: str = Field("civic-public", pattern=r"^[a-z0-9][a-z0-9.-]{2,62}$")
    sse: Literal["aws:kms", "AES256"] = "aws:kms"
    kms_key_id: str | None = None
    local_dir: Path = PROJECT_DIR / ".local"
    exports_dir: Path = PROJECT_DIR / "exports"
    max_object_bytes: int = Field(512 * MIB, ge=1)
    max_line_bytes: int = Field(MIB, ge=1)
    chunk_rows: int = Field(50_000, ge=1)
    # Where Alertmanager posts alerts (a ticketing system's webhook; deploy/alertmanager/).
    # None: Alertmanager runs with a receiver that sends nothing. May carry a token: kept
    # out of repr and logs.
    alert_webhook_url: str | None = Field(None, pattern=r"^https?://\S+$", repr=False)

    @property
    def env_file(self) -> Path:
        return self.local_dir / "env"

    @property
    def airflow_home(self) -> Path:
        return self.local_dir / "airflow"

    def as_environment(self) -> dict[str, str]:
        """The `CIVIC_*` variables that `load_settings` turns back into these settings."""
        values = {name: getattr(self, key) for key, name in _ENV_NAMES.items()}
        return {name: str(value) for name, value in values.items() if value is not None}


_ENV_NAMES = {
    "raw_bucket": "CIVIC_RAW_BUCKET",
    "work_bucket": "CIVIC_WORK_BUCKET",
    "public_bucket": "CIVIC_PUBLIC_BUCKET",
    "sse": "CIVIC_S3_SSE",
    "kms_key_id": "CIVIC_S3_KMS_KEY_ID",
    "local_dir": "CIVIC_LOCAL_DIR",
    "exports_dir": "CIVIC_EXPORTS_DIR",
    "max_object_bytes": "CIVIC_MAX_OBJECT_BYTES",
    "max_line_bytes": "CIVIC_MAX_LINE_BYTES",
    "chunk_rows": "CIVIC_CHUNK_ROWS",
    "alert_webhook_url": "CIVIC_ALERT_WEBHOOK_URL",
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values = {key: env[name] for key, name in _ENV_NAMES.items() if env.get(name)}
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_ENV_NAMES[str(err['loc'][0])]}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(problems) from None
