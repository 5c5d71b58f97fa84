"""Superset's runtime without a Superset server: its environment, set-up marker, web server
command, start-up failures, its place in `services up/down`, and its configuration file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from include.core.connections import (
    SUPERSET_CONN_ID,
    WAREHOUSE_CONN_ID,
    WAREHOUSE_READONLY_CONN_ID,
    env_var,
)
from include.core.settings import Settings
from include.services import superset_runtime
from include.services.processes import ServiceError, group_alive, read_pid, spawn
from include.services.provision import ANALYST_ROLE, ANALYST_ROLE_SQL
from include.services.stack import (
    METADATA_VAR,
    SUPERSET_METADATA_VAR,
    LocalPlatform,
    user_overrides,
)
from include.services.superset_runtime import (
    CONFIG_FILE,
    HOME_VAR,
    SECRET_KEY_VAR,
    SupersetServer,
    set_up,
    setup_marker,
    superset_environment,
)
from include.superset.assets import DATABASE_NAME

METADATA_URI = "postgresql+psycopg2://superset:pw@127.0.0.1:5432/superset"
GOOD_KEY = "k" * 40


def _env(home: Path, uri: str = METADATA_URI) -> dict[str, str]:
    return superset_environment(home, uri, GOOD_KEY)


def test_environment_keeps_superset_inside_the_project(tmp_path: Path) -> None:
    env = _env(tmp_path / "superset")
    assert env == {
        HOME_VAR: str(tmp_path / "superset"),
        "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
        SECRET_KEY_VAR: GOOD_KEY,
        superset_runtime.METADATA_VAR: METADATA_URI,
        superset_runtime.ANALYST_DATABASE_VAR: DATABASE_NAME,
    }
    assert CONFIG_FILE.is_file()


def test_setup_marker_changes_with_the_database_or_the_password(tmp_path: Path) -> None:
    env = _env(tmp_path)
    marker = setup_marker(env, "secret-1")
    assert marker.parent == tmp_path
    assert superset_runtime.superset_version() in marker.name
    assert setup_marker(env, "secret-1") == marker
    assert setup_marker(env, "secret-2") != marker
    assert setup_marker(_env(tmp_path, METADATA_URI.replace("5432", "5433")), "secret-1") != marker
    assert "secret-1" not in marker.name


def test_setup_marker_changes_with_the_role_definitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`superset init` builds the analysts' role from civic_security.py: edited, it reruns."""
    env = _env(tmp_path)
    marker = setup_marker(env, "secret")
    edited = tmp_path / "civic_security.py"
    edited.write_bytes(superset_runtime.SECURITY_FILE.read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(superset_runtime, "SECURITY_FILE", edited)
    assert setup_marker(env, "secret") != marker


def test_set_up_is_skipped_when_the_marker_exists(tmp_path: Path) -> None:
    # A metadata URI nobody listens on: running any Superset command would fail.
    env = _env(tmp_path, "postgresql+psycopg2://superset:pw@127.0.0.1:1/superset")
    setup_marker(env, "secret").touch()
    assert set_up(env, "secret", tmp_path / "setup.log") is False
    assert not (tmp_path / "setup.log").exists()


def test_a_failed_set_up_step_names_itself_its_log_and_its_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "setup.log"
    with pytest.raises(ServiceError) as caught:
        superset_runtime._run_step(
            "superset db upgrade",
            ["sh", "-c", "echo migrating; echo 'relation ab_user missing' >&2; exit 3"],
            {**os.environ, HOME_VAR: str(tmp_path)},
            log,
        )
    message = str(caught.value)
    assert "superset db upgrade failed (exit 3)" in message
    assert str(log) in message
    assert "relation ab_user missing" in message
    assert "migrating" in log.read_text()


def test_web_server_is_gunicorn_on_loopback_with_one_threaded_worker(tmp_path: Path) -> None:
    argv = SupersetServer(tmp_path, 18088).command()
    assert Path(argv[0]).name == "gunicorn"
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:18088"
    assert argv[argv.index("--workers") + 1] == "1"
    assert argv[argv.index("--worker-class") + 1] == "gthread"
    assert "--no-control-socket" in argv
    assert argv[-1] == "superset.app:create_app()"


def test_start_refuses_a_port_another_program_holds(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        server = SupersetServer(tmp_path / "run", other.getsockname()[1])
        with pytest.raises(ServiceError, match="taken by another program"):
            server.start(_env(tmp_path / "home"), timeout=5)
    assert server.running() is None


class _CrashingServer(SupersetServer):
    def command(self) -> list[str]:
        return ["sh", "-c", "echo 'SUPERSET_SECRET_KEY is not set' >&2; exit 1"]


def test_start_fails_at_once_when_the_server_exits(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _CrashingServer(tmp_path / "run", port)
    with pytest.raises(ServiceError, match="exited while starting") as caught:
        server.start(_env(tmp_path / "home"), timeout=60)
    assert str(server.log_file) in str(caught.value)
    assert "SUPERSET_SECRET_KEY is not set" in server.log_file.read_text()


def test_down_stops_superset_and_its_children(tmp_path: Path) -> None:
    stack = LocalPlatform(Settings(local_dir=tmp_path, exports_dir=tmp_path / "exports"), {})
    server = stack.superset()
    pid = spawn(
        ["sh", "-c", "sleep 60 & sleep 60"], pid_file=server.pid_file, log_file=server.log_file
    )
    assert stack.down() == ["superset"]
    assert read_pid(server.pid_file) is None
    assert not group_alive(pid)


def test_user_provided_superset_settings_are_overrides() -> None:
    readonly = '{"conn_type":"postgres","host":"db.example.org","login":"civic_analyst"}'
    environ = {
        env_var(WAREHOUSE_READONLY_CONN_ID): readonly,
        SUPERSET_METADATA_VAR: METADATA_URI,
        env_var(SUPERSET_CONN_ID): '{"conn_type":"http"}',
    }
    assert user_overrides(environ, {}) == {
        env_var(WAREHOUSE_READONLY_CONN_ID): readonly,
        SUPERSET_METADATA_VAR: METADATA_URI,
    }


def test_embedded_postgres_is_needed_until_every_database_is_the_users(tmp_path: Path) -> None:
    settings = Settings(local_dir=tmp_path, exports_dir=tmp_path / "exports")
    external = {
        env_var(WAREHOUSE_CONN_ID): '{"conn_type":"postgres","host":"db.example.org"}',
        METADATA_VAR: "postgresql+psycopg://airflow@db.example.org/airflow",
    }
    assert LocalPlatform(settings, external).embedded_postgres_needed
    assert not LocalPlatform(
        settings, {**external, SUPERSET_METADATA_VAR: METADATA_URI}
    ).embedded_postgres_needed


def test_external_warehouse_without_readonly_connection_says_what_to_do(tmp_path: Path) -> None:
    settings = Settings(local_dir=tmp_path, exports_dir=tmp_path / "exports")
    stack = LocalPlatform(
        settings, {env_var(WAREHOUSE_CONN_ID): '{"conn_type":"postgres","host":"db.example.org"}'}
    )
    with pytest.raises(ServiceError) as caught:
        stack.readonly_warehouse()
    assert env_var(WAREHOUSE_READONLY_CONN_ID) in str(caught.value)
    assert "include/sql/analyst_role.sql" in str(caught.value)


def test_analyst_role_sql_grants_the_role_the_code_connects_as() -> None:
    text = ANALYST_ROLE_SQL.read_text()
    assert f"CREATE ROLE {ANALYST_ROLE} LOGIN" in text
    assert "FOR ROLE civic_pipeline IN SCHEMA curated, aggregates" in text


# -- superset/superset_config.py, loaded by the Superset virtualenv's interpreter ----------


# flask_appbuilder.const's values (Flask-AppBuilder lives in Superset's virtualenv only).
AUTH_DB, AUTH_OAUTH = 1, 4
CONFIG_KEYS = (
    "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "BABEL_DEFAULT_LOCALE",
    "LANGUAGES",
    "WTF_CSRF_ENABLED",
    "PREVENT_UNSAFE_DB_CONNECTIONS",
    "CACHE_CONFIG",
    "UPLOAD_FOLDER",
    "CUSTOM_SECURITY_MANAGER",
    "CIVIC_ANALYST_DATABASE",
    "AUTH_TYPE",
    "AUTH_USER_REGISTRATION",
    "AUTH_ROLES_MAPPING",
    "AUTH_ROLES_SYNC_AT_LOGIN",
    "OAUTH_PROVIDERS",
    "AUTH_API_LOGIN_ALLOW_MULTIPLE_PROVIDERS",
    "CIVIC_LOCAL_ACCOUNTS",
    "SESSION_COOKIE_SECURE",
    "ENABLE_PROXY_FIX",
)
OIDC_ENV = {
    "CIVIC_OIDC_ISSUER": "https://auth.ville.example/realms/civic",
    "CIVIC_OIDC_CLIENT_ID": "superset",
    "CIVIC_OIDC_CLIENT_SECRET": "client-secret-from-the-realm",
}


def _load_config(**env: str) -> subprocess.CompletedProcess[str]:
    """The settings superset_config.py defines (None for one it leaves to Superset)."""
    script = (
        "import json, runpy, sys\n"
        "cfg = runpy.run_path(sys.argv[1])\n"
        "print(json.dumps({key: cfg.get(key) for key in sys.argv[2:]}, default=str))\n"
    )
    keys = list(CONFIG_KEYS)
    return subprocess.run(
        [str(superset_runtime.superset_bin("python")), "-c", script, str(CONFIG_FILE), *keys],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_config_loads_from_the_platform_environment(tmp_path: Path) -> None:
    result = _load_config(**_env(tmp_path))
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["SECRET_KEY"] == GOOD_KEY
    assert config["SQLALCHEMY_DATABASE_URI"] == METADATA_URI
    assert config["BABEL_DEFAULT_LOCALE"] == "fr"
    assert sorted(config["LANGUAGES"]) == ["en", "fr"]
    assert config["WTF_CSRF_ENABLED"] is True
    assert config["PREVENT_UNSAFE_DB_CONNECTIONS"] is True
    assert config["CACHE_CONFIG"]["CACHE_TYPE"] == "SimpleCache"
    assert config["UPLOAD_FOLDER"] == f"{tmp_path / 'uploads'}/"
    assert config["CUSTOM_SECURITY_MANAGER"] == "<class 'civic_security.CivicSecurityManager'>"
    assert config["CIVIC_ANALYST_DATABASE"] == DATABASE_NAME
    # Embedded: local accounts made by the admin, no single sign-on, no self-registration.
    assert config["AUTH_TYPE"] == AUTH_DB
    assert config["AUTH_USER_REGISTRATION"] is False
    assert config["OAUTH_PROVIDERS"] is None
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["ENABLE_PROXY_FIX"] is False


def test_config_signs_in_through_the_oidc_provider_when_given_one(tmp_path: Path) -> None:
    result = _load_config(**_env(tmp_path), **OIDC_ENV, CIVIC_SUPERSET_BEHIND_PROXY="1")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["AUTH_TYPE"] == AUTH_OAUTH
    [provider] = config["OAUTH_PROVIDERS"]
    # The realm's `superset` client allows /oauth-authorized/keycloak only.
    assert provider["name"] == "keycloak"
    remote = provider["remote_app"]
    assert remote["server_metadata_url"] == (
        "https://auth.ville.example/realms/civic/.well-known/openid-configuration"
    )
    assert (remote["client_id"], remote["client_secret"]) == (
        "superset",
        "client-secret-from-the-realm",
    )
    assert remote["client_kwargs"]["code_challenge_method"] == "S256"
    assert "groups" in remote["client_kwargs"]["scope"].split()
    # Accounts follow the realm's groups at each sign-in; only mapped groups give roles.
    assert config["AUTH_USER_REGISTRATION"] is True
    assert config["AUTH_ROLES_SYNC_AT_LOGIN"] is True
    assert config["AUTH_ROLES_MAPPING"] == {
        "analystes": ["Analyste"],
        "gouvernance": ["Analyste"],
        "admins": ["Admin"],
    }
    # The refresh DAG's local admin keeps its password login to the REST API, and its name.
    assert config["AUTH_API_LOGIN_ALLOW_MULTIPLE_PROVIDERS"] is True
    assert superset_runtime.ADMIN_USER in config["CIVIC_LOCAL_ACCOUNTS"]
    # Behind the HTTPS proxy: Secure cookie, forwarded headers trusted.
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["ENABLE_PROXY_FIX"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({SECRET_KEY_VAR: ""}, "SUPERSET_SECRET_KEY is not set"),
        ({SECRET_KEY_VAR: "CHANGE_ME_TO_A_SECRET"}, "SUPERSET_SECRET_KEY is too weak"),
        ({superset_runtime.METADATA_VAR: ""}, "CIVIC_SUPERSET_METADATA_URI is not set"),
        (
            {superset_runtime.METADATA_VAR: "sqlite:////tmp/superset.db"},
            "CIVIC_SUPERSET_METADATA_URI must point at PostgreSQL, not 'sqlite'",
        ),
        ({HOME_VAR: ""}, "SUPERSET_HOME is not set"),
        (
            {superset_runtime.ANALYST_DATABASE_VAR: ""},
            "CIVIC_SUPERSET_ANALYST_DATABASE is not set",
        ),
        ({**OIDC_ENV, "CIVIC_OIDC_CLIENT_SECRET": ""}, "CIVIC_OIDC_CLIENT_SECRET is not set"),
        ({**OIDC_ENV, "CIVIC_OIDC_CLIENT_ID": " "}, "CIVIC_OIDC_CLIENT_ID is not set"),
    ],
)
def test_config_refuses_to_load_without_its_settings(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    result = _load_config(**{**_env(tmp_path), **change})
    assert result.returncode != 0
    assert f"SupersetConfigError: {message}" in result.stderr
    assert result.stdout == ""
