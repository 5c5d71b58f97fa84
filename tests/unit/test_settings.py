"""Settings round-trip through the environment; bad values name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from include.core.settings import Settings, SettingsError, load_settings


def test_settings_round_trip_through_environment(tmp_path: Path) -> None:
    settings = Settings(
        local_dir=tmp_path, exports_dir=tmp_path / "x", sse="AES256", kms_key_id=None
    )
    assert load_settings(settings.as_environment()) == settings


def test_bad_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="CIVIC_RAW_BUCKET"):
        load_settings({"CIVIC_RAW_BUCKET": "Not_A_Bucket"})
