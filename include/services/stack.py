"""The local platform as a whole: which services run, on which ports, with which secrets.

`up` starts what the user has not pointed elsewhere, provisions databases and
buckets, and writes `.local/env` (the Airflow connections and settings every
other command and process reads). A user-provided connection (an
`AIRFLOW_CONN_*` or `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN` variable in the
environment that `.local/env` did not put there) replaces the embedded service
for that part, and nothing embedded is started for it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from include.audit import (
    AUDIT_KEY_CONN_ID,
    audit_key_connection,
    generate_secret,
    provision_audit,
)
from include.connections import (
    PSEUDONYM_KEY_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    Connection,
    env_var,
    parse_connection,
    s3_client,
)
from include.services import airflow_runtime
from include.services.postgres import PostgresServer
from include.services.processes import free_port
from include.services.provision import DatabaseGrant, ensure_database
from include.services.s3server import S3Server
from include.settings import Settings
from include.zones import BucketState, ensure_buckets

METADATA_VAR = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
DEFAULT_PORTS = {"postgres": 55432, "s3": 59000, "airflow": 8080}


@dataclass
class LocalState:
    """Ports and generated secrets, kept in `.local/state.json` (mode 0600) across restarts."""

    ports: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> LocalState:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(ports=data.get("ports", {}), secrets=data.get("secrets", {}))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps({"ports": self.ports, "secrets": self.secrets}, indent=2))
        tmp.replace(path)

    def port(self, name: str) -> int:
        if name not in self.ports:
            self.ports[name] = free_port(DEFAULT_PORTS.get(name))
        return self.ports[name]

    def secret(self, name: str, factory: Callable[[], str] | None = None) -> str:
        if name not in self.secrets:
            self.secrets[name] = factory() if factory else secrets.token_urlsafe(24)
        return self.secrets[name]


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def read_env_file(path: Path) -> dict[str, str]:
    """Parse the `export KEY='value'` lines `write_env_file` writes."""
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _, raw = line.removeprefix("export ").partition("=")
            parsed = shlex.split(raw)
            values[key] = parsed[0] if parsed else ""
    return values


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by `civic services up`: connections and settings of the local platform.",
        "# Holds secrets: keep it private (mode 0600, ignored by git). Source it to use airflow",
        "# by hand:  set -a; . .local/env; set +a",
    ]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(values.items())]
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def user_overrides(environ: Mapping[str, str], env_file: Mapping[str, str]) -> dict[str, str]:
    """Variables the user set: present in the environment, and not as `.local/env` wrote them."""
    keys = (
        env_var(WAREHOUSE_CONN_ID),
        env_var(S3_CONN_ID),
        METADATA_VAR,
        env_var(AUDIT_KEY_CONN_ID),
        env_var(PSEUDONYM_KEY_CONN_ID),
    )
    return {k: environ[k] for k in keys if environ.get(k) and environ[k] != env_file.get(k)}


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    state: str  # "running", "stopped", "external", "healthy", "unhealthy"
    detail: str = ""


class LocalPlatform:
    """Start, stop and report the services of one project checkout."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = dict(os.environ if environ is None else environ)
        self.state_path = settings.local_dir / "state.json"
        self.run_dir = settings.local_dir / "run"
        self.state = LocalState.load(self.state_path)
        self.overrides = user_overrides(self.environ, read_env_file(settings.env_file))

    # -- the parts ---------------------------------------------------------------------------

    @property
    def embedded_postgres_needed(self) -> bool:
        return not (env_var(WAREHOUSE_CONN_ID) in self.overrides and METADATA_VAR in self.overrides)

    @property
    def embedded_s3_needed(self) -> bool:
        return env_var(S3_CONN_ID) not in self.overrides

    def postgres(self) -> PostgresServer:
        return PostgresServer(
            data_dir=self.settings.local_dir / "postgres" / "data",
            port=self.state.port("postgres"),
            superuser_password=self.state.secret("postgres_password"),
        )

    def s3_server(self) -> S3Server:
        return S3Server(port=self.state.port("s3"), run_dir=self.run_dir)

    def airflow(self) -> airflow_runtime.AirflowServices:
        return airflow_runtime.AirflowServices(self.run_dir, self.state.port("airflow"))

    # -- commands ----------------------------------------------------------------------------

    def up(self, progress: Callable[[str], None] = lambda _msg: None) -> list[BucketState]:
        """Start and provision everything but Airflow's long-running services; write .local/env."""
        self.settings.local_dir.mkdir(parents=True, exist_ok=True)
        env: dict[str, str] = {}
        if self.embedded_postgres_needed:
            server = self.postgres()
            progress(f"PostgreSQL on 127.0.0.1:{server.port}")
            server.start()
            admin = server.dsn()
            if METADATA_VAR not in self.overrides:
                airflow_db = DatabaseGrant(
                    "airflow", "airflow", self.state.secret("airflow_db_password")
                )
                ensure_database(admin, airflow_db)
                env[METADATA_VAR] = "postgresql+psycopg://" + server.dsn(
                    airflow_db.database, airflow_db.owner, airflow_db.password
                ).removeprefix("postgresql://")
            if env_var(WAREHOUSE_CONN_ID) not in self.overrides:
                warehouse = DatabaseGrant(
                    "civic", "civic_pipeline", self.state.secret("pipeline_db_password")
                )
                ensure_database(admin, warehouse)
                provision_audit(admin, warehouse.database)
                env[env_var(WAREHOUSE_CONN_ID)] = Connection(
                    "postgres",
                    "127.0.0.1",
                    server.port,
                    warehouse.owner,
                    warehouse.password,
                    warehouse.database,
                ).to_json()
        if self.embedded_s3_needed:
            s3 = self.s3_server()
            progress(f"S3 server on {s3.endpoint_url}")
            s3.start()
            env[env_var(S3_CONN_ID)] = Connection(
                "aws",
                login=self.state.secret("s3_access_key", lambda: "civic" + secrets.token_hex(8)),
                password=self.state.secret("s3_secret_key"),
                extra={"endpoint_url": s3.endpoint_url, "region_name": "eu-west-3"},
            ).to_json()
        if env_var(AUDIT_KEY_CONN_ID) not in self.overrides:
            env[env_var(AUDIT_KEY_CONN_ID)] = audit_key_connection(
                self.state.secret("audit_key", generate_secret)
            ).to_json()
        if env_var(PSEUDONYM_KEY_CONN_ID) not in self.overrides:
            env[env_var(PSEUDONYM_KEY_CONN_ID)] = Connection(
                "generic",
                password=self.state.secret("pseudonym_key", lambda: secrets.token_urlsafe(48)),
                extra={"key_id": "k1"},
            ).to_json()
        env.update(
            airflow_runtime.airflow_environment(
                self.settings.airflow_home,
                self.overrides.get(METADATA_VAR, env.get(METADATA_VAR, "")),
                self.state.port("airflow"),
                {
                    "fernet_key": self.state.secret("fernet_key", _fernet_key),
                    "api_secret_key": self.state.secret("api_secret_key"),
                    "jwt_secret": self.state.secret("jwt_secret"),
                },
            )
        )
        # The platform's own settings travel with the connections, so that DAG tasks (which
        # read them with load_settings()) use the same buckets and folders as this checkout.
        env.update(self.settings.as_environment())
        airflow_runtime.write_admin_password(
            self.settings.airflow_home, self.state.secret("airflow_admin_password")
        )
        self.state.save(self.state_path)
        write_env_file(self.settings.env_file, env)
        progress("buckets (raw, work, public) with default encryption")
        client = s3_client(parse_connection(self.connection_value(S3_CONN_ID, env), S3_CONN_ID))
        buckets = ensure_buckets(client, self.settings)
        progress("Airflow metadata database")
        airflow_runtime.migrate(self.process_env())
        return buckets

    def connection_value(self, conn_id: str, written: Mapping[str, str]) -> str:
        var = env_var(conn_id)
        return self.overrides.get(var) or written[var]

    def process_env(self) -> dict[str, str]:
        """What a process of the platform sees: `.local/env`, then the user's overrides on top."""
        return {**read_env_file(self.settings.env_file), **self.overrides}

    def start_airflow(self) -> None:
        self.airflow().start(self.process_env())

    def down(self) -> list[str]:
        """Stop every process this checkout started; return their names."""
        stopped = [f"airflow {c}" for c in self.airflow().stop()]
        if self.s3_server().stop():
            stopped.append("s3")
        if self.postgres().stop():
            stopped.append("postgres")
        return stopped

    def status(self) -> list[ServiceStatus]:
        rows = []
        if self.embedded_postgres_needed:
            pg = self.postgres()
            rows.append(
                ServiceStatus(
                    "postgres",
                    f"127.0.0.1:{pg.port}",
                    "running" if pg.is_running() else "stopped",
                    f"data in {pg.data_dir}",
                )
            )
        else:
            conn = parse_connection(self.overrides[env_var(WAREHOUSE_CONN_ID)], WAREHOUSE_CONN_ID)
            rows.append(ServiceStatus("postgres", f"{conn.host}:{conn.port or 5432}", "external"))
        if self.embedded_s3_needed:
            s3 = self.s3_server()
            rows.append(
                ServiceStatus(
                    "s3",
                    s3.endpoint_url,
                    "running" if s3.is_running() else "stopped",
                    "moto, in memory",
                )
            )
        else:
            conn = parse_connection(self.overrides[env_var(S3_CONN_ID)], S3_CONN_ID)
            rows.append(
                ServiceStatus("s3", str(conn.extra.get("endpoint_url", "AWS S3")), "external")
            )
        airflow = self.airflow()
        health = airflow.health()
        for component, pid in airflow.running().items():
            key = component.replace("-", "_").replace("api_server", "metadatabase")
            state = "stopped" if pid is None else health.get(key, "running")
            address = f"http://127.0.0.1:{airflow.api_port}" if component == "api-server" else "-"
            rows.append(
                ServiceStatus(f"airflow {component}", address, state, f"pid {pid}" if pid else "")
            )
        return rows
