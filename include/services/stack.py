"""The local platform as a whole: which services run, on which ports, with which secrets.

`up` starts what the user has not pointed elsewhere, provisions databases and
buckets, and writes `.local/env` (the Airflow connections and settings every
other command and process reads, Superset's included). A user-provided
connection (an `AIRFLOW_CONN_*`, `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN` or
`CIVIC_SUPERSET_METADATA_URI` variable in the environment that `.local/env` did
not put there) replaces the embedded service for that part, and nothing
embedded is started for it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from include.audit import (
    AUDIT_KEY_CONN_ID,
    Ed25519Key,
    audit_key_connection,
    generate_secret,
    provision_audit,
)
from include.audit.keys import DEFAULT_KEY_ID
from include.core.connections import (
    AIRFLOW_METADATA_VAR,
    CONNECTION_PREFIX,
    PSEUDONYM_KEY_CONN_ID,
    S3_CONN_ID,
    SUPERSET_CONN_ID,
    WAREHOUSE_CONN_ID,
    WAREHOUSE_READONLY_CONN_ID,
    Connection,
    env_var,
    parse_connection,
    s3_client,
)
from include.core.settings import Settings
from include.core.zones import BucketState, ensure_buckets
from include.services import airflow_runtime, superset_runtime
from include.services.alertmanager_server import AlertmanagerServer, shown_url
from include.services.metrics_exporter import MetricsExporter
from include.services.postgres import PostgresServer
from include.services.processes import ServiceError, free_port
from include.services.prometheus_server import PrometheusServer
from include.services.provision import (
    ANALYST_ROLE,
    DatabaseGrant,
    ensure_analyst_role,
    ensure_database,
)
from include.services.redis_server import RedisServer
from include.services.s3server import RestoreReport, S3Server
from include.services.sealed_file import SealedFileError, generate_key
from include.services.vault_provision import (
    AppRoleLogin,
    airflow_login,
    airflow_secrets_environment,
    provision,
    provision_ledger_signer,
    provision_pseudonymizer,
)
from include.services.vault_server import VaultKeys, VaultServer
from include.services.zone_record import ZoneRecord, ZonesLostError, check_zones

if TYPE_CHECKING:
    from include.superset.sync import SyncResult

METADATA_VAR = AIRFLOW_METADATA_VAR
SUPERSET_METADATA_VAR = superset_runtime.METADATA_VAR
DEFAULT_PORTS = {
    "postgres": 55432,
    "s3": 59000,
    "airflow": 8080,
    "superset": 8088,
    "redis": 56379,
    "vault": 58200,
    "vault_cluster": 58201,
    "exporter": 59464,
    "prometheus": 59090,
    "alertmanager": 59093,
}
EXECUTORS = ("local", "celery")
# Celery workers started on this host: one per core of the 2-core machines this runs on.
DEFAULT_CELERY_WORKERS = 2


@dataclass
class LocalState:
    """Ports, generated secrets, the embedded S3 zones' record (include/services/zone_record.py),
    the Airflow executor chosen (`local`, or `celery` with its number of workers), whether
    Airflow reads its connections from the embedded vault and whether the monitoring
    (exporter, Prometheus, Alertmanager) runs, kept in `.local/state.json` (mode 0600)
    across restarts."""

    ports: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    s3_zones: ZoneRecord = field(default_factory=ZoneRecord)
    executor: str = "local"
    celery_workers: int = DEFAULT_CELERY_WORKERS
    vault: bool = False
    monitoring: bool = False

    @classmethod
    def load(cls, path: Path) -> LocalState:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(
            ports=data.get("ports", {}),
            secrets=data.get("secrets", {}),
            s3_zones=ZoneRecord.from_state(data.get("s3_zones", {})),
            executor=data.get("executor", "local"),
            celery_workers=data.get("celery_workers", DEFAULT_CELERY_WORKERS),
            vault=data.get("vault", False),
            monitoring=data.get("monitoring", False),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        data = {
            "ports": self.ports,
            "secrets": self.secrets,
            "s3_zones": self.s3_zones.to_state(),
            "executor": self.executor,
            "celery_workers": self.celery_workers,
            "vault": self.vault,
            "monitoring": self.monitoring,
        }
        tmp.write_text(json.dumps(data, indent=2))
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
        env_var(WAREHOUSE_READONLY_CONN_ID),
        env_var(S3_CONN_ID),
        METADATA_VAR,
        SUPERSET_METADATA_VAR,
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
        # Set by `up(force=True)` when it started over empty zones: what was lost, and why.
        self.zone_reset: dict[str, Any] | None = None
        self.overrides = user_overrides(self.environ, read_env_file(settings.env_file))

    # -- the parts ---------------------------------------------------------------------------

    @property
    def embedded_postgres_needed(self) -> bool:
        """Unless the warehouse and both metadata databases are the user's."""
        own = (env_var(WAREHOUSE_CONN_ID), METADATA_VAR, SUPERSET_METADATA_VAR)
        return not all(var in self.overrides for var in own)

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
        return S3Server(
            port=self.state.port("s3"),
            run_dir=self.run_dir,
            data_dir=self.settings.local_dir / "s3",
            snapshot_key=self.state.secret("s3_snapshot_key", generate_key),
        )

    @property
    def celery(self) -> bool:
        return self.state.executor == "celery"

    def redis(self) -> RedisServer:
        return RedisServer(
            self.run_dir, self.state.port("redis"), self.state.secret("redis_password")
        )

    def vault(self) -> VaultServer:
        return VaultServer(
            self.run_dir,
            self.settings.local_dir / "vault",
            self.state.port("vault"),
            self.state.port("vault_cluster"),
        )

    def airflow(self) -> airflow_runtime.AirflowServices:
        workers = self.state.celery_workers if self.celery else 0
        return airflow_runtime.AirflowServices(self.run_dir, self.state.port("airflow"), workers)

    def superset(self) -> superset_runtime.SupersetServer:
        return superset_runtime.SupersetServer(self.run_dir, self.state.port("superset"))

    def exporter(self, refresh_seconds: float = 30.0) -> MetricsExporter:
        return MetricsExporter(
            run_dir=self.run_dir,
            port=self.state.port("exporter"),
            refresh_seconds=refresh_seconds,
        )

    def prometheus(self, scrape_interval: str = "15s") -> PrometheusServer:
        return PrometheusServer(
            run_dir=self.run_dir,
            port=self.state.port("prometheus"),
            data_dir=self.settings.local_dir / "prometheus",
            exporter_port=self.state.port("exporter"),
            alertmanager_port=self.state.port("alertmanager"),
            scrape_interval=scrape_interval,
        )

    def alertmanager(self) -> AlertmanagerServer:
        return AlertmanagerServer(
            run_dir=self.run_dir,
            port=self.state.port("alertmanager"),
            data_dir=self.settings.local_dir / "alertmanager",
            webhook_url=self.settings.alert_webhook_url,
        )

    # -- commands ----------------------------------------------------------------------------

    def up(
        self,
        progress: Callable[[str], None] = lambda _msg: None,
        *,
        force: bool = False,
        executor: str | None = None,
        celery_workers: int | None = None,
        vault: bool | None = None,
        monitoring: bool | None = None,
    ) -> list[BucketState]:
        """Start and provision everything but Airflow's long-running services; write .local/env.

        Refuses (ZonesLostError) when the embedded S3 server lacks zone buckets that held
        data; `force` starts with empty zones instead and records it (`self.zone_reset`).
        `executor` (`local` or `celery`) and `celery_workers` are recorded for later starts;
        with Celery, the Redis broker is started here. `vault` (kept for later starts) starts
        the embedded vault and stores every connection in it: Airflow's processes then read
        them through its secrets backend, none in their environment (`airflow_env`).
        `monitoring` (kept for later starts) starts the metrics exporter, Prometheus and
        Alertmanager once the rest is up (`start_monitoring`); False stops them.
        """
        if executor is not None:
            if executor not in EXECUTORS:
                raise ServiceError(f"executor must be one of {list(EXECUTORS)}, got {executor!r}")
            self.state.executor = executor
        if celery_workers is not None:
            if celery_workers < 1:
                raise ServiceError(f"celery_workers must be at least 1, got {celery_workers}")
            self.state.celery_workers = celery_workers
        if vault is not None:
            self.state.vault = vault
        if monitoring is not None:
            self.state.monitoring = monitoring
        self.settings.local_dir.mkdir(parents=True, exist_ok=True)
        env: dict[str, str] = {}
        broker_url = None
        if self.celery:
            broker = self.redis()
            progress(f"Redis broker on 127.0.0.1:{broker.port}")
            broker.start()
            broker_url = broker.url
        if self.embedded_postgres_needed:
            server = self.postgres()
            progress(f"PostgreSQL on 127.0.0.1:{server.port}")
            server.start()
            admin = server.dsn()
            if METADATA_VAR not in self.overrides:
                env[METADATA_VAR] = self._metadata_database(server, admin, "airflow", "psycopg")
            if SUPERSET_METADATA_VAR not in self.overrides:
                env[SUPERSET_METADATA_VAR] = self._metadata_database(
                    server, admin, "superset", "psycopg2"
                )
            if env_var(WAREHOUSE_CONN_ID) not in self.overrides:
                progress("warehouse: schemas, tables, audit ledger, analysts' read-only role")
                env.update(self._provision_warehouse(server))
        if self.embedded_s3_needed:
            s3 = self.s3_server()
            progress(f"S3 server on {s3.endpoint_url}, zones kept in {s3.snapshot_path}")
            # Saved before the server starts: it seals its snapshot with a key from this state.
            self.state.save(self.state_path)
            report = s3.start(set_aside_unreadable=force)
            connection = Connection(
                "aws",
                login=self.state.secret("s3_access_key", lambda: "civic" + secrets.token_hex(8)),
                password=self.state.secret("s3_secret_key"),
                extra={"endpoint_url": s3.endpoint_url, "region_name": "eu-west-3"},
            )
            self._check_zones(s3, report, s3_client(connection), force)
            env[env_var(S3_CONN_ID)] = connection.to_json()
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
                broker_url,
            )
        )
        # The platform's own settings travel with the connections, so that DAG tasks (which
        # read them with load_settings()) use the same buckets and folders as this checkout.
        env.update(self.settings.as_environment())
        env.update(self._superset_environment(env))
        if self.state.vault:
            progress(f"vault (OpenBao) on {self.vault().url}: Airflow's connections")
            env.update(self._connections_in_vault(env))
        airflow_runtime.write_admin_password(
            self.settings.airflow_home, self.state.secret("airflow_admin_password")
        )
        self.state.save(self.state_path)
        write_env_file(self.settings.env_file, env)
        progress("buckets (raw, work, public) with default encryption")
        client = s3_client(parse_connection(self.connection_value(S3_CONN_ID, env), S3_CONN_ID))
        buckets = ensure_buckets(client, self.settings)
        if self.embedded_s3_needed:
            self.state.s3_zones.zones_ensured([bucket.name for bucket in buckets])
            self._record_last_save(self.s3_server())
        progress("Airflow metadata database")
        airflow_runtime.migrate(self.process_env())
        if self.state.monitoring:
            self.start_monitoring(progress)
        elif monitoring is False:
            self.stop_monitoring()
        return buckets

    def start_monitoring(
        self,
        progress: Callable[[str], None] = lambda _msg: None,
        *,
        scrape_interval: str = "15s",
        refresh_seconds: float = 30.0,
    ) -> None:
        """The metrics exporter (include/monitoring/), then Alertmanager, then Prometheus
        scraping both (Debian's packages: include/services/prometheus_server.py)."""
        for name in ("exporter", "alertmanager", "prometheus"):
            self.state.port(name)
        self.state.save(self.state_path)  # the ports chosen, for `status` and later starts
        exporter = self.exporter(refresh_seconds)
        progress(f"metrics exporter on {exporter.url}")
        exporter.start(self.process_env())
        alertmanager = self.alertmanager()
        progress(f"Alertmanager on {alertmanager.url}")
        alertmanager.start()
        prometheus = self.prometheus(scrape_interval)
        progress(f"Prometheus on {prometheus.url}")
        prometheus.start()

    def stop_monitoring(self) -> list[str]:
        services = (self.prometheus(), self.alertmanager(), self.exporter())
        return [service.name for service in services if service.stop()]

    def _connections_in_vault(self, env: dict[str, str]) -> dict[str, str]:
        """Start the vault, store every connection of `env` in it, the ledger's signing key
        replaced by one the vault holds (written back into `env`); return the settings that
        make Airflow read them there (`include/services/vault_provision.py`)."""
        server = self.vault()
        secrets_ = self.state.secrets
        known = (
            VaultKeys(secrets_["vault_unseal_key"], secrets_["vault_root_token"])
            if "vault_unseal_key" in secrets_
            else None
        )
        keys = server.start(known)
        secrets_["vault_unseal_key"] = keys.unseal_key
        secrets_["vault_root_token"] = keys.root_token
        self.state.save(self.state_path)
        root = server.client(keys.root_token)
        connections = {
            key.removeprefix(CONNECTION_PREFIX).lower(): parse_connection(value, key)
            for key, value in {**env, **self.overrides}.items()
            if key.startswith(CONNECTION_PREFIX)
        }
        if env_var(AUDIT_KEY_CONN_ID) not in self.overrides:
            connections[AUDIT_KEY_CONN_ID] = self._ledger_signer(root)
            env[env_var(AUDIT_KEY_CONN_ID)] = connections[AUDIT_KEY_CONN_ID].to_json()
        if env_var(PSEUDONYM_KEY_CONN_ID) not in self.overrides:
            # Pseudonyms made from now on carry the transit key's id (v1): distinct counts
            # restart at the move, as at any key rotation (anonymization/pseudonyms.py).
            connections[PSEUDONYM_KEY_CONN_ID] = provision_pseudonymizer(
                root, self._kept_login("pseudonymizer")
            )
            self._keep_login("pseudonymizer", _login_of(connections[PSEUDONYM_KEY_CONN_ID]))
            env[env_var(PSEUDONYM_KEY_CONN_ID)] = connections[PSEUDONYM_KEY_CONN_ID].to_json()
        provision(root, connections)
        login = airflow_login(root, self._kept_login("vault"))
        self._keep_login("vault", login)
        return airflow_secrets_environment(server.url, login)

    def _ledger_signer(self, root: Any) -> Connection:
        """The ledger's key inside the vault; entries the local key signed before keep
        verifying with its public key."""
        # The key `up` generates without the vault (audit_key_connection's defaults).
        local = Ed25519Key.from_seed(
            DEFAULT_KEY_ID, self.state.secret("audit_key", generate_secret)
        )
        connection = provision_ledger_signer(
            root, self._kept_login("ledger"), {local.key_id: local.public_b64()}
        )
        self._keep_login("ledger", _login_of(connection))
        return connection

    def _kept_login(self, name: str) -> AppRoleLogin | None:
        """The AppRole login `_keep_login` kept under `name` in the state, if any."""
        kept = self.state.secrets
        if f"{name}_role_id" not in kept:
            return None
        return AppRoleLogin(kept[f"{name}_role_id"], kept[f"{name}_secret_id"])

    def _keep_login(self, name: str, login: AppRoleLogin) -> None:
        self.state.secrets[f"{name}_role_id"] = login.role_id
        self.state.secrets[f"{name}_secret_id"] = login.secret_id

    def _check_zones(
        self, s3: S3Server, report: RestoreReport | None, client: Any, force: bool
    ) -> None:
        """Refuse to go on over an embedded S3 server that lost zones which held data."""
        existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
        try:
            self.zone_reset = check_zones(
                self.state.s3_zones,
                existing,
                s3,
                report,
                force=force,
                state_file=str(self.state_path),
            )
        except ZonesLostError:
            if report is not None:
                s3.stop()  # started empty by this call: nothing to save, nothing to keep running
            raise
        self.state.save(self.state_path)

    def _record_last_save(self, s3: S3Server) -> None:
        """Note in the state what the snapshot held at its last save (for a refusal's message)."""
        with contextlib.suppress(SealedFileError):
            self.state.s3_zones.saved(s3.snapshot_info())
        self.state.save(self.state_path)

    def _provision_warehouse(self, server: PostgresServer) -> dict[str, str]:
        """The embedded warehouse: its owner and database, the audit ledger, every source's
        (empty) tables, and the analysts' read-only role; returns their connections."""
        from include.core.source_config import load_all_sources
        from include.warehouse.load import ensure_tables  # pandas: only `up` pays for the import

        admin = server.dsn()
        warehouse = DatabaseGrant(
            "civic", "civic_pipeline", self.state.secret("pipeline_db_password")
        )
        ensure_database(admin, warehouse)
        provision_audit(admin, warehouse.database)
        pipeline = Connection(
            "postgres",
            "127.0.0.1",
            server.port,
            warehouse.owner,
            warehouse.password,
            warehouse.database,
        )
        ensure_tables(pipeline.postgres_dsn(), load_all_sources().values())
        env = {env_var(WAREHOUSE_CONN_ID): pipeline.to_json()}
        if env_var(WAREHOUSE_READONLY_CONN_ID) not in self.overrides:
            analyst_password = self.state.secret("analyst_db_password")
            ensure_analyst_role(admin, warehouse.database, analyst_password)
            analyst = replace(pipeline, login=ANALYST_ROLE, password=analyst_password)
            env[env_var(WAREHOUSE_READONLY_CONN_ID)] = analyst.to_json()
        return env

    def _superset_environment(self, written: Mapping[str, str]) -> dict[str, str]:
        """Superset's settings (superset/superset_config.py reads them) and the connection
        the refresh DAG's hook uses to reach it."""
        env = superset_runtime.superset_environment(
            self.settings.local_dir / "superset",
            self.overrides.get(SUPERSET_METADATA_VAR, written.get(SUPERSET_METADATA_VAR, "")),
            self.state.secret("superset_secret_key", lambda: secrets.token_urlsafe(42)),
        )
        env[env_var(SUPERSET_CONN_ID)] = Connection(
            "http",
            "127.0.0.1",
            self.state.port("superset"),
            superset_runtime.ADMIN_USER,
            self.state.secret("superset_admin_password"),
            "http",
        ).to_json()
        return env

    def _metadata_database(
        self, server: PostgresServer, admin_dsn: str, name: str, driver: str
    ) -> str:
        """An application's metadata database, owned by a login role of the same name.

        Returns its SQLAlchemy URI for `driver` (Airflow uses psycopg 3, Superset's own
        environment psycopg2).
        """
        grant = DatabaseGrant(name, name, self.state.secret(f"{name}_db_password"))
        ensure_database(admin_dsn, grant)
        dsn = server.dsn(grant.database, grant.owner, grant.password)
        return f"postgresql+{driver}://" + dsn.removeprefix("postgresql://")

    def connection_value(self, conn_id: str, written: Mapping[str, str]) -> str:
        var = env_var(conn_id)
        return self.overrides.get(var) or written[var]

    def process_env(self) -> dict[str, str]:
        """What a process of the platform sees: `.local/env`, then the user's overrides on top."""
        return {**read_env_file(self.settings.env_file), **self.overrides}

    def airflow_env(self) -> dict[str, str]:
        """What an Airflow process sees: with the vault, no connection in its environment
        (its secrets backend reads them from the vault); else `process_env`."""
        env = self.process_env()
        if self.state.vault:
            env = {k: v for k, v in env.items() if not k.startswith(CONNECTION_PREFIX)}
        return env

    def start_airflow(self) -> None:
        self.airflow().start(self.airflow_env(), connections_in_environment=not self.state.vault)

    def readonly_warehouse(self) -> Connection:
        """The analysts' read-only warehouse connection (Superset's data source)."""
        env = self.process_env()
        if not env.get(env_var(WAREHOUSE_READONLY_CONN_ID)):
            raise ServiceError(
                f"Superset needs the read-only warehouse connection "
                f"{env_var(WAREHOUSE_READONLY_CONN_ID)}: `civic services up` writes it for the "
                f"embedded warehouse; with a warehouse of your own ({env_var(WAREHOUSE_CONN_ID)} "
                "set), have a DBA run include/sql/analyst_role.sql there and set that variable "
                f"to a postgres connection with login {ANALYST_ROLE}"
            )
        return parse_connection(
            env[env_var(WAREHOUSE_READONLY_CONN_ID)], WAREHOUSE_READONLY_CONN_ID
        )

    def start_superset(self) -> bool:
        """Set Superset up if needed (metadata tables, roles, admin account), then start its
        web server and wait until it is healthy; True if the set-up ran."""
        self.readonly_warehouse()
        env = self.process_env()
        server = self.superset()
        ran = superset_runtime.set_up(
            env, self.state.secret("superset_admin_password"), server.setup_log_file
        )
        server.start(env)
        return ran

    def sync_superset_assets(self) -> SyncResult:
        """Import the dashboards, charts and datasets of superset/assets into the running
        Superset and refresh every dataset's columns (include/superset/sync.py)."""
        from include.superset.client import SupersetClient
        from include.superset.sync import sync_assets

        password = self.state.secret("superset_admin_password")
        with SupersetClient(self.superset().url, superset_runtime.ADMIN_USER, password) as client:
            return sync_assets(client, self.readonly_warehouse())

    def down(self) -> list[str]:
        """Stop every process this checkout started; return their names."""
        stopped = ["superset"] if self.superset().stop() else []
        stopped += self.stop_monitoring()
        stopped += [f"airflow {c}" for c in self.airflow().stop()]
        if self.redis().stop():
            stopped.append("redis")
        if self.vault().stop():
            stopped.append("vault")
        s3 = self.s3_server()
        if s3.stop():
            stopped.append("s3")
            self._record_last_save(s3)
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
                    s3.persistence(),
                )
            )
        else:
            conn = parse_connection(self.overrides[env_var(S3_CONN_ID)], S3_CONN_ID)
            rows.append(
                ServiceStatus("s3", str(conn.extra.get("endpoint_url", "AWS S3")), "external")
            )
        if self.celery:
            broker = self.redis()
            state = "healthy" if broker.responds() else "stopped"
            rows.append(ServiceStatus("redis", f"127.0.0.1:{broker.port}", state, "Celery broker"))
        if self.state.vault:
            server = self.vault()
            state = "running" if server.is_running() and server.responds() else "stopped"
            rows.append(ServiceStatus("vault", server.url, state, "Airflow's connections"))
        airflow = self.airflow()
        health = airflow.health()
        for component, pid in airflow.running().items():
            key = component.replace("-", "_").replace("api_server", "metadatabase")
            state = "stopped" if pid is None else health.get(key, "running")
            address = f"http://127.0.0.1:{airflow.api_port}" if component == "api-server" else "-"
            rows.append(
                ServiceStatus(f"airflow {component}", address, state, f"pid {pid}" if pid else "")
            )
        rows.append(self._superset_status())
        if self.state.monitoring or any(
            service.running() is not None
            for service in (self.exporter(), self.prometheus(), self.alertmanager())
        ):
            rows += self.monitoring_status()
        return rows

    def monitoring_status(self) -> list[ServiceStatus]:
        """The exporter (/metrics), Prometheus (/-/healthy and /-/ready) and Alertmanager
        (/-/healthy, and where its alerts go)."""
        rows = []
        exporter = self.exporter()
        pid = exporter.running()
        state = "stopped" if pid is None else "healthy" if exporter.healthy() else "unhealthy"
        rows.append(ServiceStatus("exporter", exporter.url, state, f"pid {pid}" if pid else ""))
        prometheus = self.prometheus()
        pid = prometheus.running()
        if pid is None:
            rows.append(ServiceStatus("prometheus", prometheus.url, "stopped"))
        else:
            healthy, ready = prometheus.healthy(), prometheus.ready()
            state = "healthy" if healthy and ready else "unhealthy"
            detail = (
                f"pid {pid}"
                + ("" if ready else ", not ready")
                + ("" if healthy else ", not healthy")
            )
            rows.append(ServiceStatus("prometheus", prometheus.url, state, detail))
        alertmanager = self.alertmanager()
        pid = alertmanager.running()
        if pid is None:
            rows.append(ServiceStatus("alertmanager", alertmanager.url, "stopped"))
        else:
            webhook = alertmanager.webhook_in_use()
            sends = (
                f"alerts to {shown_url(webhook)}"
                if webhook
                else "no webhook (null receiver): set CIVIC_ALERT_WEBHOOK_URL"
            )
            state = "healthy" if alertmanager.healthy() else "unhealthy"
            rows.append(
                ServiceStatus("alertmanager", alertmanager.url, state, f"pid {pid}; {sends}")
            )
        return rows

    def _superset_status(self) -> ServiceStatus:
        server = self.superset()
        pid = server.running()
        if pid is None:
            return ServiceStatus("superset", server.url, "stopped")
        state = "healthy" if server.healthy() else "unhealthy"
        return ServiceStatus("superset", server.url, state, f"pid {pid}")


def _login_of(connection: Connection) -> AppRoleLogin:
    """The AppRole login a vault key connection carries."""
    return AppRoleLogin(str(connection.login), str(connection.password))
