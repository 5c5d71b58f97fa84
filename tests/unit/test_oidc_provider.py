"""The OpenID Connect provider helper's failure paths: they must say what to do.

The happy path (a real sign-in) is tests/integration/test_oidc_provider.py; here a
missing install and a provider that dies at start are injected, and secrets must not
show in a repr that pytest prints on failure.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from include.services.processes import ServiceError
from tests.oidc_provider import OIDC_DIR, OidcAccount, OidcClient, start_oidc_provider

CLIENT = OidcClient(
    client_id="rp",
    client_secret="client-secret-value",
    redirect_uris=("http://127.0.0.1:9/cb",),
)
ACCOUNT = OidcAccount(
    username="dominique",
    password="password-value",
    email="dominique@example.org",
    given_name="Dominique",
    family_name="Leroy",
    groups=("civic-viewers",),
)


def test_reprs_hide_secrets() -> None:
    assert "client-secret-value" not in repr(CLIENT)
    assert "password-value" not in repr(ACCOUNT)
    assert "dominique" in repr(ACCOUNT)


def test_missing_node_modules_says_make_oidc(tmp_path: Path) -> None:
    oidc_dir = tmp_path / "oidc"
    oidc_dir.mkdir()
    (oidc_dir / "provider.mjs").write_text((OIDC_DIR / "provider.mjs").read_text())
    with pytest.raises(ServiceError, match=r"node_modules is missing: run `make setup oidc`"):
        start_oidc_provider(tmp_path / "run", [CLIENT], [ACCOUNT], oidc_dir=oidc_dir)
    assert not (tmp_path / "run").exists(), "nothing is written before the checks pass"


def test_a_provider_that_dies_at_start_fails_fast_with_its_log(tmp_path: Path) -> None:
    oidc_dir = tmp_path / "oidc"
    (oidc_dir / "node_modules" / "oidc-provider").mkdir(parents=True)
    # Fault injected: a provider that reads its config, says why it gives up, and exits.
    (oidc_dir / "provider.mjs").write_text(
        "import { readFileSync } from 'node:fs';\n"
        "const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));\n"
        "console.log(`cannot start: ${config.clients.length} client(s) on port ${config.port}`);\n"
        "process.exit(3);\n"
    )
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        start_oidc_provider(tmp_path / "run", [CLIENT], [ACCOUNT], oidc_dir=oidc_dir, timeout=20)
    assert time.monotonic() - started < 10, "an early exit must not wait for the time-out"
    message = str(caught.value)
    assert "exited before it was ready" in message
    assert "cannot start: 1 client(s) on port" in message

    config_file = tmp_path / "run" / "oidc-provider.json"
    assert config_file.stat().st_mode & 0o777 == 0o600
    config = json.loads(config_file.read_text())
    assert config["issuer"] == f"http://127.0.0.1:{config['port']}"
    assert config["accounts"][0]["groups"] == ["civic-viewers"]
    assert len(config["cookie_keys"]) == 2
    assert len(set(config["cookie_keys"])) == 2


def test_no_client_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one client"):
        start_oidc_provider(tmp_path, [], [ACCOUNT])
