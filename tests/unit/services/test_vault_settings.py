"""What `--vault` changes without starting anything: the kept choice, Airflow's environment."""

from __future__ import annotations

import json
from pathlib import Path

from include.core.connections import CONNECTION_PREFIX
from include.core.settings import Settings
from include.services.stack import LocalPlatform, LocalState, write_env_file
from include.services.vault_provision import AppRoleLogin, airflow_secrets_environment


def test_the_vault_choice_is_kept_across_restarts(tmp_path: Path) -> None:
    LocalState(vault=True).save(tmp_path / "state.json")
    assert LocalState.load(tmp_path / "state.json").vault
    assert not LocalState.load(tmp_path / "absent.json").vault


def _platform(tmp_path: Path, vault: bool) -> LocalPlatform:
    settings = Settings(local_dir=tmp_path, exports_dir=tmp_path / "exports")
    LocalState(vault=vault).save(tmp_path / "state.json")
    write_env_file(
        settings.env_file,
        {f"{CONNECTION_PREFIX}CIVIC_WAREHOUSE": '{"conn_type":"postgres"}', "CIVIC_X": "1"},
    )
    return LocalPlatform(settings, environ={})


def test_with_the_vault_airflow_processes_get_no_connection(tmp_path: Path) -> None:
    env = _platform(tmp_path, vault=True).airflow_env()
    assert env == {"CIVIC_X": "1"}


def test_without_the_vault_airflow_processes_get_the_connections(tmp_path: Path) -> None:
    env = _platform(tmp_path, vault=False).airflow_env()
    assert f"{CONNECTION_PREFIX}CIVIC_WAREHOUSE" in env


def test_the_backend_settings_hold_the_approle_login_and_no_variable_lookups() -> None:
    env = airflow_secrets_environment("http://127.0.0.1:1", AppRoleLogin("role", "secret"))
    kwargs = json.loads(env["AIRFLOW__SECRETS__BACKEND_KWARGS"])
    assert (kwargs["auth_type"], kwargs["role_id"], kwargs["secret_id"]) == (
        "approle", "role", "secret"
    )  # fmt: skip
    assert kwargs["variables_path"] is None
    assert kwargs["config_path"] is None
    assert "secret" not in repr(AppRoleLogin("role", "secret")).replace("secret_id", "")
