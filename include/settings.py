"""Platform settings that are not connections: bucket names, encryption, local paths.

Read once from the environment (`CIVIC_*` variables) into a validated, frozen
model and passed down; nothing deeper in the code reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROJECT_DIR = Path(__file__).resolve().parent.parent


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
