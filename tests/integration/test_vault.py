"""The embedded vault (OpenBao, started for real) and a pipeline whose connections live only there.

The server tests run an OpenBao of their own in a temporary folder; the pipeline
test runs a platform of its own started as `civic services up --vault --airflow`
starts it, and triggers the pipeline through Airflow's REST API: its scheduler,
API server and task processes have no `AIRFLOW_CONN_*` in their environment, so
every connection a task used came through Airflow's `VaultBackend`.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import hvac
import pytest

from include.audit import AUDIT_KEY_CONN_ID, key_from_connection, last_entries, verify
from include.core.connections import (
    CONNECTION_PREFIX,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    Connection,
    get_connection,
    s3_client,
)
from include.core.source_config import load_all_sources
from include.sample.writer import write_sample
from include.services.processes import ServiceError
from include.services.stack import LocalPlatform
from include.services.vault_provision import (
    CONNECTIONS_PATH,
    KV_MOUNT,
    airflow_login,
    airflow_secrets_environment,
    provision,
)
from include.services.vault_server import VaultServer
from tests.integration.airflow_api import failed_task_logs, run_through_api
from tests.own_platform import own_platform

WAREHOUSE = Connection("postgres", "127.0.0.1", 5432, "civic", "p@ss/wörd", "civic", {"a": 1})


def test_the_vault_keeps_its_secrets_across_a_restart(vault: VaultServer) -> None:
    keys = vault.start(None)
    provision(vault.client(keys.root_token), {WAREHOUSE_CONN_ID: WAREHOUSE})
    assert vault.stop()
    assert not vault.is_running()

    assert vault.start(keys) == keys  # unsealed with the kept key, not initialised again
    stored = vault.client(keys.root_token).secrets.kv.v2.read_secret_version(
        f"{CONNECTIONS_PATH}/{WAREHOUSE_CONN_ID}",
        mount_point=KV_MOUNT,
        raise_on_deleted_version=True,
    )
    assert stored["data"]["data"] == json.loads(WAREHOUSE.to_json())


def test_a_vault_whose_keys_or_data_were_lost_is_refused_not_replaced(
    vault: VaultServer,
) -> None:
    keys = vault.start(None)
    with pytest.raises(ServiceError, match="lost its unseal key"):
        vault.start(None)
    vault.stop()
    shutil.rmtree(vault.data_dir)  # the vault's storage gone, the checkout's keys kept
    with pytest.raises(ServiceError, match="its data was lost"):
        vault.start(keys)


def test_airflow_reads_connections_through_its_backend_and_nothing_else(
    vault: VaultServer,
) -> None:
    keys = vault.start(None)
    root = vault.client(keys.root_token)
    provision(root, {WAREHOUSE_CONN_ID: WAREHOUSE})
    login = airflow_login(root, None)
    assert airflow_login(root, login) == login  # a login that still works is kept

    # Imported here, not at collection: importing Airflow configures it, and the session's
    # platform sets its metadata database only when its fixture starts.
    from airflow.providers.hashicorp.secrets.vault import VaultBackend

    kwargs = json.loads(
        airflow_secrets_environment(vault.url, login)["AIRFLOW__SECRETS__BACKEND_KWARGS"]
    )
    found = VaultBackend(**kwargs).get_connection(WAREHOUSE_CONN_ID)
    assert found is not None
    assert (found.conn_type, found.host, found.port, found.login, found.password, found.schema) == (
        "postgres", "127.0.0.1", 5432, "civic", "p@ss/wörd", "civic"
    )  # fmt: skip
    assert found.extra_dejson == {"a": 1}
    assert VaultBackend(**kwargs).get_connection("not_there") is None

    airflow = hvac.Client(url=vault.url)
    airflow.auth.approle.login(login.role_id, login.secret_id)
    kv = airflow.secrets.kv.v2
    with pytest.raises(hvac.exceptions.Forbidden):
        kv.list_secrets(CONNECTIONS_PATH, mount_point=KV_MOUNT)
    with pytest.raises(hvac.exceptions.Forbidden):
        kv.create_or_update_secret(f"{CONNECTIONS_PATH}/x", {"a": "b"}, mount_point=KV_MOUNT)
    with pytest.raises(hvac.exceptions.Forbidden):
        airflow.sys.list_acl_policies()


@pytest.mark.slow
@pytest.mark.airflow
def test_a_pipeline_runs_with_its_connections_only_in_the_vault() -> None:
    with own_platform("civic-vault-") as stack:
        stack.up(vault=True)
        stack.start_airflow()
        _run_from_the_vault(stack)


def _run_from_the_vault(stack: LocalPlatform) -> None:
    airflow_env = stack.airflow_env()
    assert not [key for key in airflow_env if key.startswith(CONNECTION_PREFIX)]
    assert airflow_env["AIRFLOW__SECRETS__BACKEND"].endswith("VaultBackend")
    for component, pid in stack.airflow().running().items():
        assert pid is not None, component
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert not [v for v in environ if v.startswith(CONNECTION_PREFIX.encode())], component

    env = stack.process_env()  # the operator's side: the sample goes in with the S3 connection
    settings = stack.settings
    write_sample(
        s3_client(get_connection(S3_CONN_ID, env)),
        settings.raw_bucket,
        load_all_sources()["signalements"],
        rows=300,
        seed=7,
        day=datetime.now(UTC).date(),
        sse=settings.sse,
        kms_key_id=settings.kms_key_id,
    )
    runs, instances = run_through_api(stack, "civic_pipeline_signalements", "from_the_vault")
    states = {(ti["dag_run_id"], ti["task_id"]): ti["state"] for ti in instances}
    assert {r["state"] for r in runs} == {"success"}, failed_task_logs(stack, instances)
    done = {ti["task_id"] for ti in instances if ti["state"] == "success"}
    assert {"ingest", "scrub", "anonymize", "validate", "load", "publish"} <= done, states
    # Every ledger entry was signed inside the vault, and verifies.
    dsn = get_connection(WAREHOUSE_CONN_ID, env).postgres_dsn()
    ledger_key = key_from_connection(get_connection(AUDIT_KEY_CONN_ID, env))
    entries = last_entries(dsn, 1000)
    assert entries
    assert {entry.key_id for entry in entries} == {"civic-ledger.v1"}
    assert verify(dsn, ledger_key).intact
    # Every pseudonym was computed by the vault's transit engine (key id v1, its version).
    scrubs = [entry.payload for entry in entries if entry.step == "scrub"]
    assert scrubs
    assert {payload["pseudonym_key_id"] for payload in scrubs} == {"v1"}
