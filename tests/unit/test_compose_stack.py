"""docker-compose.airflow.yml and what it mounts, checked without a Docker engine.

No Docker engine runs where this project is developed and tested, so the stack is never
started here: these tests validate the compose file against the Compose Specification's
JSON schema (vendored in tests/data/compose-spec/, see its README for source and licence)
and check the cross-references a typo would break at `docker compose up` time, or worse,
at run time: services named in `depends_on`, named volumes, bind-mounted files, variables
and the env file that documents them, the Airflow components' shared settings, image pins,
healthchecks, TLS to PostgreSQL, the proxy's upstreams, the Keycloak realm's groups,
MFA and clients, and Airflow's sign-in: the Keycloak auth manager's settings and the
`airflow` client's callbacks, resources, scopes and the permissions each group gets, held
against what the installed `apache-airflow-providers-keycloak` asks of Keycloak. And the
monitoring: Prometheus's scrape targets and rule files, Alertmanager's rendered routes,
Grafana's provisioning (data source uid, dashboard folder, mounts) and its dashboards,
parsed, laid out, read only from the contract's metrics (tests/monitoring_contract.py) and
round-tripped through Grafana's own dashboard model (grafana-foundation-sdk, Grafana 11.6):
a key that model does not know, or a panel or query type it has no model for, is reported.

Each check is a function returning the problems it found, so that `test_each_check_catches`
can break a copy of the files once per check and see that check (and not just any test)
report it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from tests.monitoring_contract import (
    CONTRACT_METRICS,
    EXPORTER_JOB,
    promql_selectors,
    selector_problems,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
FILES = {
    "compose": "docker-compose.airflow.yml",
    "env": "deploy/env.example",
    "caddy": "deploy/caddy/Caddyfile",
    "realm": "deploy/keycloak/realm-civic.json",
    "dockerfile": "deploy/Dockerfile",
    "requirements": "requirements.txt",
    "prometheus": "deploy/prometheus/prometheus.yml",
    "alertmanager": "deploy/alertmanager/alertmanager.yml",
    "grafana_datasources": "deploy/grafana/provisioning/datasources/prometheus.yml",
    "grafana_dashboards": "deploy/grafana/provisioning/dashboards/civic.yml",
}
# The dashboards, each its own file of the stack (key `dashboard:<name>`).
DASHBOARDS_DIR = "deploy/grafana/dashboards"
FILES.update(
    {
        f"dashboard:{path.stem}": f"{DASHBOARDS_DIR}/{path.name}"
        for path in sorted((Path(__file__).resolve().parents[2] / DASHBOARDS_DIR).glob("*.json"))
    }
)
AIRFLOW_COMMANDS = ("api-server", "scheduler", "dag-processor", "triggerer", "celery worker")
SHARED_AIRFLOW_SETTINGS = (
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
)
REALM_GROUPS = ("operateurs", "analystes", "gouvernance", "admins")
# Names of settings that hold a secret (CIVIC_S3_KMS_KEY_ID, a key's name, is not one).
SECRET_NAME = re.compile(r"PASSWORD|SECRET|_AUTH$|_KEY(_BASE64)?$")
# ${VAR}, ${VAR:-default}, ${VAR:?message}; `$${...}` is a literal `${` for the container.
COMPOSE_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}")
CADDY_VAR = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")
REALM_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")
LONG_RUNNING = ("always", "unless-stopped", "on-failure")


@dataclass
class Stack:
    """The compose file and the files it mounts or that describe it, as read from `paths`."""

    paths: dict[str, Path]

    def text(self, name: str) -> str:
        return self.paths[name].read_text()

    def uncommented(self, name: str) -> str:
        """The file without its comment lines (YAML, Caddyfile and env file all use #)."""
        lines = self.text(name).splitlines()
        return "\n".join(line for line in lines if not line.lstrip().startswith("#"))

    @property
    def compose(self) -> dict[str, Any]:
        return yaml.safe_load(self.text("compose"))

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.compose["services"]

    @property
    def realm(self) -> dict[str, Any]:
        return json.loads(self.text("realm"))

    @property
    def env_example(self) -> dict[str, str]:
        values = {}
        for line in self.text("env").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, sep, value = line.partition("=")
                assert sep, f"deploy/env.example: not KEY=value: {line!r}"
                values[key.strip()] = value.strip()
        return values


def repo_stack() -> Stack:
    return Stack({name: ROOT / rel for name, rel in FILES.items()})


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): str(v) for k, v in env.items()}


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def airflow_services(stack: Stack) -> dict[str, str]:
    """Service name -> the Airflow component its command starts."""
    found = {}
    for name, service in stack.services.items():
        command = command_text(service)
        for component in AIRFLOW_COMMANDS:
            if command == component or command.startswith(component + " "):
                found[name] = component
    return found


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def is_long_running(service: dict[str, Any]) -> bool:
    return str(service.get("restart", "no")) in LONG_RUNNING


# -- the checks --------------------------------------------------------------------------


def schema_problems(stack: Stack) -> list[str]:
    validator = jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text()))
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(stack.compose)
    ]


def depends_on_problems(stack: Stack) -> list[str]:
    services = stack.services
    problems = []
    for name, service in services.items():
        for target, condition in dependencies(service).items():
            if target not in services:
                problems.append(f"{name} depends on {target!r}, which is not a service")
            elif condition == "service_healthy" and "healthcheck" not in services[target]:
                problems.append(f"{name} waits for {target} to be healthy; it has no healthcheck")
            elif condition == "service_completed_successfully" and is_long_running(
                services[target]
            ):
                problems.append(f"{name} waits for {target} to complete; it restarts forever")
            elif condition == "service_started" and is_long_running(services[target]):
                problems.append(f"{name} waits for {target} to start, not to be healthy")
    return problems


def mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume entry, short or long syntax."""
    found = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, str):
            source, _, rest = entry.partition(":")
            found.append((source, rest.partition(":")[0]))
        else:
            found.append((str(entry.get("source", "")), str(entry.get("target", ""))))
    return found


def is_path(source: str) -> bool:
    return source.startswith((".", "/", "~"))


def volume_problems(stack: Stack) -> list[str]:
    declared = set(stack.compose.get("volumes") or {})
    used = set()
    problems = []
    for name, service in stack.services.items():
        for source, _ in mounts(service):
            if source and not is_path(source):
                used.add(source)
                if source not in declared:
                    problems.append(f"{name} mounts volume {source!r}, not declared in volumes:")
    problems += [f"volume {v!r} is declared but no service mounts it" for v in declared - used]
    return problems


def bind_mount_problems(stack: Stack) -> list[str]:
    base = ROOT
    problems = []
    for name, service in stack.services.items():
        for source, _ in mounts(service):
            if is_path(source) and not (base / source).exists():
                problems.append(f"{name} bind-mounts {source}, which is not in the repository")
        build = service.get("build")
        if isinstance(build, dict):
            context = base / build.get("context", ".")
            if not (context / build.get("dockerfile", "Dockerfile")).is_file():
                problems.append(f"{name} builds from {build}, and that Dockerfile is missing")
    return problems


def env_var_problems(stack: Stack) -> list[str]:
    listed = stack.env_example
    problems = []
    used: dict[str, set[str]] = {}
    for match in COMPOSE_VAR.finditer(stack.uncommented("compose")):
        used.setdefault(match.group(1), set()).add(match.group(2) or "")
    for var, forms in sorted(used.items()):
        if var not in listed:
            problems.append(f"${{{var}}} is used by the compose file, not in deploy/env.example")
        if SECRET_NAME.search(var) and forms != {"?"}:
            problems.append(f"secret ${{{var}}} must be required (${{{var}:?...}}), no default")
    for source, pattern, service in (
        ("caddy", CADDY_VAR, "proxy"),
        ("realm", REALM_VAR, "keycloak"),
    ):
        given = environment(stack.services.get(service, {}))
        text = stack.uncommented(source) if source == "caddy" else stack.text(source)
        for var in sorted(set(pattern.findall(text))):
            if var not in given:
                problems.append(
                    f"{FILES[source]} uses {var}; the {service} service is not given it"
                )
    for var, value in listed.items():
        if var not in used:
            problems.append(f"deploy/env.example lists {var}, which the compose file never uses")
        if SECRET_NAME.search(var) and value:
            problems.append(f"deploy/env.example holds a value for the secret {var}")
    return problems


def literal_secret_problems(stack: Stack) -> list[str]:
    """No secret value written in the file: a secret-named setting must come from `${...}`."""
    problems = []
    for name, service in stack.services.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key) and "${" not in value and "/" not in value:
                problems.append(f"{name}: {key} has a literal value, not ${{VAR:?...}}")
    text = stack.text("compose")
    for match in re.finditer(r'"password":"([^"]*)"', text):
        if not match.group(1).startswith("${"):
            problems.append(f"a connection's password is written in the file: {match.group(0)}")
    for match in re.finditer(r"://[^:/@\s]+:([^@\s]+)@", text):
        if not match.group(1).startswith("${"):
            problems.append(f"a URL's password is written in the file: {match.group(0)}")
    return problems


def airflow_env_problems(stack: Stack) -> list[str]:
    compose = stack.compose
    common = {str(k): str(v) for k, v in compose["x-airflow-common"]["environment"].items()}
    problems = [
        f"x-airflow-common lacks {key}" for key in SHARED_AIRFLOW_SETTINGS if key not in common
    ]
    if common.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
        problems.append("x-airflow-common's executor is not the CeleryExecutor")
    found = airflow_services(stack)
    missing = set(AIRFLOW_COMMANDS) - set(found.values())
    problems += [f"no service runs Airflow's {component}" for component in sorted(missing)]
    for name in [*found, "airflow-init"]:
        env = environment(stack.services.get(name, {}))
        for key, value in common.items():
            if env.get(key) != value:
                problems.append(f"{name}: {key} differs from x-airflow-common (or is missing)")
    return problems


def image_problems(stack: Stack) -> list[str]:
    problems = []
    for name, service in stack.services.items():
        image = service.get("image")
        if not image:
            problems.append(f"{name} names no image (pin one by exact tag)")
            continue
        repository, _, tag = image.rpartition(":")
        if "/" in tag or not repository or "@" in image:
            problems.append(f"{name}: image {image} has no tag")
        elif tag == "latest" or "$" in tag or not re.search(r"\d", tag):
            problems.append(f"{name}: image {image} is not pinned to a version")
    pinned = re.search(r"^apache-airflow==(\S+)$", stack.text("requirements"), re.MULTILINE)
    base = re.search(r"^FROM apache/airflow:(\S+?)-python", stack.text("dockerfile"), re.MULTILINE)
    if not (pinned and base and pinned.group(1) == base.group(1)):
        problems.append(
            f"deploy/Dockerfile's apache/airflow ({base and base.group(1)}) is not the version "
            f"requirements.txt pins ({pinned and pinned.group(1)})"
        )
    return problems


def healthcheck_problems(stack: Stack) -> list[str]:
    problems = []
    for name, service in stack.services.items():
        if is_long_running(service) and not (service.get("healthcheck") or {}).get("test"):
            problems.append(f"{name} runs for good and has no healthcheck")
    return problems


def postgres_tls_problems(stack: Stack) -> list[str]:
    """Every client of the compose PostgreSQL verifies its certificate, with a mounted CA."""
    problems = []
    for name, service in stack.services.items():
        ca_mounts = [target for source, target in mounts(service) if source == "pg-ca"]
        for key, value in environment(service).items():
            if "postgres:5432" not in value and '"host":"postgres"' not in value:
                continue
            root = re.search(r"sslrootcert[=\":]+([^&\"]+)", value)
            if "verify-full" not in value or not root:
                problems.append(f"{name}: {key} does not verify PostgreSQL's certificate")
            elif not any(root.group(1).startswith(target + "/") for target in ca_mounts):
                problems.append(f"{name}: {key}'s CA {root.group(1)} is not a mounted pg-ca")
    command = command_text(stack.services["postgres"])
    if "ssl=on" not in command:
        problems.append("postgres is not started with ssl=on")
    return problems


def caddy_sites(stack: Stack) -> dict[str, str]:
    """Site address -> upstream, from the Caddyfile (placeholders written as ${VAR})."""
    sites = {}
    for match in re.finditer(
        r"^(\S+)\s*\{(.*?)^\}", stack.uncommented("caddy"), flags=re.MULTILINE | re.DOTALL
    ):
        upstream = re.search(r"reverse_proxy\s+(\S+)", match.group(2))
        sites[CADDY_VAR.sub(r"${\1}", match.group(1))] = upstream.group(1) if upstream else ""
    return sites


def proxy_problems(stack: Stack) -> list[str]:
    problems = []
    services = stack.services
    sites = caddy_sites(stack)
    if len(sites) < 3:
        problems.append(f"the Caddyfile serves {sorted(sites)}; expected airflow, superset, auth")
    for site, upstream in sites.items():
        host, _, port = upstream.rpartition(":")
        exposed = {str(p) for p in services.get(host, {}).get("expose", [])}
        if host not in services or port not in exposed:
            problems.append(f"{site} proxies to {upstream}, which no service exposes")
    return problems


def public_data_problems(stack: Stack) -> list[str]:
    """The public releases' site serves reads of the public bucket and refuses the rest:
    the raw and work zones, listings, writes and MinIO's console never reach MinIO."""
    blocks = {
        CADDY_VAR.sub(r"${\1}", m.group(1)): m.group(2)
        for m in re.finditer(
            r"^(\S+)\s*\{(.*?)^\}", stack.uncommented("caddy"), flags=re.MULTILINE | re.DOTALL
        )
    }
    block = blocks.get("donnees.${CIVIC_DOMAIN}")
    if block is None:
        return ["no site donnees.${CIVIC_DOMAIN} for the public releases"]
    matcher = re.search(r"@(\w+)\s*\{(.*?)\}", block, flags=re.DOTALL)
    if matcher is None:
        return ["the releases' site has no request matcher"]
    name, conditions = matcher.groups()
    problems = []
    method = re.search(r"method\s+([A-Z ]+)", conditions)
    methods = set(method.group(1).split()) if method else set()
    if not methods or not methods <= {"GET", "HEAD"}:
        problems.append(f"the releases' site lets through methods {sorted(methods) or 'all'}")
    paths = re.findall(r"path\s+(\S+)", conditions)
    buckets = set(re.findall(r"CIVIC_PUBLIC_BUCKET: (\S+)", stack.text("compose")))
    if len(buckets) != 1 or paths != [f"/{buckets.pop()}/*"]:
        problems.append(f"the releases' site serves paths {paths}, not the public bucket's")
    proxied = re.search(rf"handle\s+@{name}\s*\{{\s*reverse_proxy\s+\S+\s*\}}", block)
    if proxied is None or block.count("reverse_proxy") != 1:
        problems.append("the releases' site proxies more than the matched reads")
    if not re.search(r"handle\s*\{\s*respond\s+.*\s403\s*\}", block):
        problems.append("the releases' site does not answer 403 to the rest")
    return problems


def realm_problems(stack: Stack) -> list[str]:
    realm = stack.realm
    problems = []
    if realm.get("realm") != "civic":
        problems.append("the realm is not named civic")
    groups = {g["name"]: g for g in realm.get("groups", [])}
    roles = {r["name"] for r in realm.get("roles", {}).get("realm", [])}
    for name in REALM_GROUPS:
        if name not in groups or name not in roles:
            problems.append(f"group and realm role {name} are not both defined")
        elif name not in groups[name].get("realmRoles", []):
            problems.append(f"group {name} does not grant the role {name}")
    actions = {a["alias"]: a for a in realm.get("requiredActions", [])}
    totp = actions.get("CONFIGURE_TOTP", {})
    if not (totp.get("enabled") and totp.get("defaultAction")):
        problems.append("CONFIGURE_TOTP is not an enabled default required action")
    if realm.get("otpPolicyType") not in ("totp", "hotp"):
        problems.append("no OTP policy")
    flows = {f["alias"]: f for f in realm.get("authenticationFlows", [])}

    def otp_required(alias: str) -> bool:
        """True if every successful path through the flow passes an OTP form."""
        executions = flows.get(alias, {}).get("authenticationExecutions", [])
        required = [e for e in executions if e["requirement"] == "REQUIRED"]
        alternatives = [e for e in executions if e["requirement"] == "ALTERNATIVE"]

        def passes(e: dict[str, Any]) -> bool:
            if e.get("authenticatorFlow"):
                return otp_required(e["flowAlias"])
            return e.get("authenticator") == "auth-otp-form"

        if any(passes(e) for e in required):
            return True
        # Alternatives: the session cookie only resumes an earlier (OTP-checked) login.
        others = [e for e in alternatives if e.get("authenticator") != "auth-cookie"]
        return bool(others) and all(passes(e) for e in others)

    if not otp_required(realm.get("browserFlow", "")):
        problems.append(f"the browser flow {realm.get('browserFlow')!r} does not require OTP")
    hosts = {urlsplit("https://" + site).hostname for site in caddy_sites(stack)}
    clients = {c["clientId"]: c for c in realm.get("clients", [])}
    for client_id in ("airflow", "superset", "grafana"):
        client = clients.get(client_id)
        if client is None:
            problems.append(f"no client {client_id}")
            continue
        if client.get("publicClient", True) or client.get("directAccessGrantsEnabled"):
            problems.append(f"client {client_id} is not a confidential, code-flow-only client")
        if not re.fullmatch(r"\$\{[A-Z0-9_]+\}", str(client.get("secret", ""))):
            problems.append(f"client {client_id}'s secret is not an env placeholder")
        for uri in client.get("redirectUris", []):
            parts = urlsplit(uri)
            if parts.scheme != "https" or parts.hostname not in hosts:
                problems.append(f"client {client_id} redirects to {uri}, not a proxied host")
        if not client.get("redirectUris"):
            problems.append(f"client {client_id} has no redirect URI")
        mappers = client.get("protocolMappers", [])
        if not any(
            m.get("protocolMapper") == "oidc-group-membership-mapper"
            and m.get("config", {}).get("claim.name") == "groups"
            and m.get("config", {}).get("access.token.claim") == "true"
            for m in mappers
        ):
            problems.append(f"client {client_id}'s tokens carry no groups claim")
    text = stack.text("realm")
    if realm.get("users") or '"credentials"' in text:
        problems.append("the realm file holds users or credentials")
    return problems


# -- Airflow's sign-in: the Keycloak auth manager and the realm's `airflow` client --------

# What the installed Keycloak provider expects, asked of the provider itself in a child
# process: importing Airflow here would configure it before the test session's platform has
# set the environment it must see (tests/conftest.py). argv[1] is Airflow's [api] base_url.
PROVIDER_PROBE = """
import json, sys
from urllib.parse import urljoin
from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX
from airflow.api_fastapi.common.types import MenuItem
from airflow.providers.keycloak.auth_manager import constants
from airflow.providers.keycloak.auth_manager.cli.commands import _get_scopes_to_create
from airflow.providers.keycloak.auth_manager.keycloak_auth_manager import KeycloakAuthManager
from airflow.providers.keycloak.auth_manager.resources import KeycloakResource
from airflow.providers.keycloak.auth_manager.routes.login import _login_callback_url, login_router
routes = {route.name: route.path for route in login_router.routes}
logout_path = AUTH_MANAGER_FASTAPI_APP_PREFIX + routes["logout_callback"]
print(json.dumps({
    "auth_manager": KeycloakAuthManager.__module__ + "." + KeycloakAuthManager.__qualname__,
    "section": constants.CONF_SECTION_NAME,
    "options": {
        "client_id": constants.CONF_CLIENT_ID_KEY,
        "client_secret": constants.CONF_CLIENT_SECRET_KEY,
        "realm": constants.CONF_REALM_KEY,
        "server_url": constants.CONF_SERVER_URL_KEY,
    },
    "login_callback": _login_callback_url(None),
    "logout_callback": urljoin(sys.argv[1], logout_path),
    "scopes": [scope["name"] for scope in _get_scopes_to_create()],
    "resources": [resource.value for resource in KeycloakResource],
    "menu_items": [item.value for item in MenuItem],
}))
"""
# The scopes the provider asks about on each kind of resource (its `_is_authorized` turns a GET
# without an id into LIST; menu items are asked about in one batch, scope MENU).
RESOURCE_SCOPES = frozenset({"GET", "POST", "PUT", "DELETE", "LIST"})
MENU_SCOPES = frozenset({"MENU"})
# GOVERNANCE.md's Airflow roles: every group but analystes reads; operateurs also run Dags.
READ_SCOPES = frozenset({"GET", "LIST", "MENU"})
OPERATED_RESOURCES = frozenset({"Dag", "Asset", "Backfill"})
OPERATE_SCOPES = frozenset({"POST", "PUT"})


@functools.cache
def provider_facts(base_url: str) -> dict[str, Any]:
    """The installed provider's class, settings, callback URLs, resources and scopes."""
    with tempfile.TemporaryDirectory(prefix="civic-keycloak-probe-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(AIRFLOW_HOME=home, AIRFLOW__API__BASE_URL=base_url)
        result = subprocess.run(
            [sys.executable, "-c", PROVIDER_PROBE, base_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, f"the Keycloak provider could not be read:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def concrete(text: str) -> str:
    """`text` with each ${VAR...} (compose or realm form) replaced by the same sample value."""
    return COMPOSE_VAR.sub(lambda m: m.group(1).lower().replace("_", "-") + ".test", text)


def airflow_common_env(compose: dict[str, Any]) -> dict[str, str]:
    """The environment every Airflow component shares (the `x-airflow-common` anchor)."""
    return {str(k): str(v) for k, v in compose["x-airflow-common"]["environment"].items()}


def keycloak_option(facts: dict[str, Any], key: str) -> str:
    """The environment variable that sets one of the provider's options."""
    return f"AIRFLOW__{facts['section'].upper()}__{facts['options'][key].upper()}"


def airflow_facts(common: dict[str, str]) -> dict[str, Any]:
    """The provider's facts for the stack's [api] base_url (its callbacks derive from it)."""
    return provider_facts(concrete(common.get("AIRFLOW__API__BASE_URL", "")))


def airflow_sign_in_problems(stack: Stack) -> list[str]:
    """Airflow's components use the Keycloak auth manager, set to reach the realm's client."""
    compose = stack.compose
    services = compose["services"]
    common = airflow_common_env(compose)
    facts = airflow_facts(common)
    problems = []
    if common.get("AIRFLOW__CORE__AUTH_MANAGER") != facts["auth_manager"]:
        problems.append(f"x-airflow-common's auth manager is not {facts['auth_manager']}")
    base_url = urlsplit(concrete(common.get("AIRFLOW__API__BASE_URL", "")))
    proxied = {urlsplit("https://" + concrete(site)).hostname for site in caddy_sites(stack)}
    if base_url.scheme != "https" or base_url.hostname not in proxied:
        problems.append(
            "AIRFLOW__API__BASE_URL (the sign-in callback's base) is not a proxied host"
        )
    for key in ("client_id", "realm", "server_url"):
        if not common.get(keycloak_option(facts, key)):
            problems.append(f"x-airflow-common lacks {keycloak_option(facts, key)}")
    realm = stack.realm
    if common.get(keycloak_option(facts, "realm")) != realm.get("realm"):
        problems.append(f"{keycloak_option(facts, 'realm')} is not the realm {realm.get('realm')}")
    clients = {c["clientId"]: c for c in realm.get("clients", [])}
    client = clients.get(common.get(keycloak_option(facts, "client_id"), ""))
    if client is None:
        problems.append(f"{keycloak_option(facts, 'client_id')} names no client of the realm")
    server = urlsplit(common.get(keycloak_option(facts, "server_url"), ""))
    exposed = {str(p) for p in services.get(server.hostname or "", {}).get("expose", [])}
    if str(server.port or 80) not in exposed:
        problems.append(f"{keycloak_option(facts, 'server_url')} reaches no service's open port")
    # The secret: the api-server's alone (the one component that talks to Keycloak), from the
    # variable the keycloak service puts into this client at the realm's import.
    secret = keycloak_option(facts, "client_secret")
    placeholder = REALM_VAR.fullmatch(str((client or {}).get("secret", "")))
    api_servers = [name for name, c in airflow_services(stack).items() if c == "api-server"]
    for name, service in services.items():
        value = environment(service).get(secret)
        if name not in api_servers:
            if value is not None:
                problems.append(f"{name} is given {secret}; only the api-server needs it")
        elif client is not None and not (
            placeholder
            and [m.group(1) for m in COMPOSE_VAR.finditer(value or "")] == [placeholder.group(1)]
        ):
            problems.append(f"{name}'s {secret} is not the realm client's secret variable")
        # Behind Caddy: without trusted X-Forwarded-Proto the sign-in cookies lose Secure.
        if name in api_servers and not (
            "--proxy-headers" in command_text(service).split()
            and environment(service).get("FORWARDED_ALLOW_IPS")
        ):
            problems.append(f"{name} does not trust the proxy's headers (--proxy-headers)")
    return problems


def redirect_allowed(allowed: list[str], uri: str, root_url: str) -> bool:
    """Keycloak's match: the same URI, or a prefix ending in `*`; `/...` is under rootUrl."""
    for pattern in allowed:
        pattern = concrete(root_url + pattern if pattern.startswith("/") else pattern)
        if pattern == uri or (pattern.endswith("*") and uri.startswith(pattern[:-1])):
            return True
    return False


def policy_grants(settings: dict[str, Any], name: str, roles: set[str]) -> bool:
    """Whether the policy (a role policy or an aggregate of policies) grants these roles."""
    policy = next((p for p in settings.get("policies", []) if p["name"] == name), None)
    if policy is None:
        return False
    config = policy.get("config", {})
    if policy["type"] == "role":
        wanted = json.loads(config.get("roles", "[]"))
        required = [r["id"] for r in wanted if r.get("required")]
        granted = (
            all(r in roles for r in required) if required else any(r["id"] in roles for r in wanted)
        )
    else:
        granted = decide(
            policy.get("decisionStrategy", "UNANIMOUS"),
            [
                policy_grants(settings, n, roles)
                for n in json.loads(config.get("applyPolicies", "[]"))
            ],
        )
    return granted != (policy.get("logic") == "NEGATIVE")


def decide(strategy: str, votes: list[bool]) -> bool:
    """Keycloak's decision strategies, as a permission, an aggregate or the server apply them."""
    if strategy == "AFFIRMATIVE":
        return any(votes)
    if strategy == "CONSENSUS":
        return sum(votes) > len(votes) - sum(votes)
    return bool(votes) and all(votes)


def access(client: dict[str, Any], roles: set[str], resource: str, scope: str) -> bool:
    """Keycloak's answer to `resource#scope` for someone with these realm roles.

    The provider's question is a UMA ticket grant for one resource and scope. Each permission
    that applies (its resources, none meaning all; its scopes, or every scope of a resource
    permission's resources) votes by its policies; the resource server's decision strategy
    combines the votes; under ENFORCING no applicable permission means no. This follows
    Keycloak's DecisionPermissionCollector for what this realm uses (role policies, scope and
    resource permissions); under AFFIRMATIVE a scope one permission grants is granted even
    where another permission denies it, under UNANIMOUS any denial wins.
    """
    settings = client.get("authorizationSettings", {})
    mode = settings.get("policyEnforcementMode", "ENFORCING")
    if mode == "DISABLED":
        return True
    votes = []
    for permission in settings.get("policies", []):
        if permission["type"] not in ("scope", "resource"):
            continue
        config = permission.get("config", {})
        resources = json.loads(config.get("resources", "[]"))
        scopes = json.loads(config.get("scopes", "[]"))
        if resources and resource not in resources:
            continue
        if (scopes and scope not in scopes) or not (scopes or resources):
            continue
        votes.append(
            decide(
                permission.get("decisionStrategy", "UNANIMOUS"),
                [
                    policy_grants(settings, name, roles)
                    for name in json.loads(config.get("applyPolicies", "[]"))
                ],
            )
        )
    if not votes:
        return mode == "PERMISSIVE"
    return decide(settings.get("decisionStrategy", "UNANIMOUS"), votes)


def expected_access(group: str | None, resource: str, scope: str) -> bool:
    """GOVERNANCE.md's Airflow roles."""
    if group == "admins":
        return True
    if group in ("operateurs", "gouvernance") and scope in READ_SCOPES:
        return True
    return group == "operateurs" and resource in OPERATED_RESOURCES and scope in OPERATE_SCOPES


def airflow_client_problems(stack: Stack) -> list[str]:
    """The realm's `airflow` client has what the installed provider asks of Keycloak."""
    common = airflow_common_env(stack.compose)
    facts = airflow_facts(common)
    realm = stack.realm
    client_id = common.get(keycloak_option(facts, "client_id"), "airflow")
    client = next((c for c in realm.get("clients", []) if c["clientId"] == client_id), None)
    if client is None:
        return [f"no client {client_id}"]
    problems = []
    root = client.get("rootUrl", "")
    if not redirect_allowed(client.get("redirectUris", []), facts["login_callback"], root):
        problems.append(
            f"client {client_id} does not accept the callback {facts['login_callback']}"
        )
    logout = client.get("attributes", {}).get("post.logout.redirect.uris", "").split("##")
    if "+" in logout:
        logout += client.get("redirectUris", [])
    if not redirect_allowed(logout, facts["logout_callback"], root):
        problems.append(f"client {client_id} does not accept {facts['logout_callback']} on logout")
    # The provider's login sends no PKCE code challenge: a client requiring one refuses it.
    if client.get("attributes", {}).get("pkce.code.challenge.method"):
        problems.append(f"client {client_id} requires PKCE, which the provider does not send")
    # Every authorization is a UMA ticket grant with the client as audience.
    if not client.get("authorizationServicesEnabled"):
        problems.append(f"client {client_id} has no authorization services")
    settings = client.get("authorizationSettings", {})
    if settings.get("policyEnforcementMode", "ENFORCING") != "ENFORCING":
        problems.append(f"client {client_id}'s authorization is not ENFORCING")
    scopes = {s["name"] for s in settings.get("scopes", [])}
    problems += [
        f"client {client_id} lacks the scope {s}" for s in facts["scopes"] if s not in scopes
    ]
    resources = {
        r["name"]: {s["name"] for s in r.get("scopes", [])} for r in settings.get("resources", [])
    }
    wanted = {
        **dict.fromkeys(facts["resources"], RESOURCE_SCOPES),
        **dict.fromkeys(facts["menu_items"], MENU_SCOPES),
    }
    for resource, needed in wanted.items():
        if not needed <= resources.get(resource, set()):
            problems.append(
                f"client {client_id} lacks the resource {resource} with {sorted(needed)}"
            )
    groups = {g["name"]: set(g.get("realmRoles", [])) for g in realm.get("groups", [])}
    for group in [*REALM_GROUPS, None]:
        roles = groups.get(group, set()) if group else set()
        for resource, needed in wanted.items():
            for scope in sorted(needed):
                allowed = access(client, roles, resource, scope)
                if allowed != expected_access(group, resource, scope):
                    who = f"group {group}" if group else "someone in no group"
                    verdict = "may" if allowed else "may not"
                    problems.append(f"{who} {verdict} {scope} {resource} in Airflow")
    return problems


# -- monitoring: Prometheus, Alertmanager, Grafana --------------------------------------------


def yaml_file(stack: Stack, name: str) -> dict[str, Any]:
    return yaml.safe_load(stack.text(name)) or {}


def bind_target(stack: Stack, service: str, source: str) -> str | None:
    """Where `service` mounts the repository path `source` (./ relative), or None."""
    for mounted, target in mounts(stack.services.get(service, {})):
        if is_path(mounted) and Path(mounted).as_posix().removeprefix("./") == source:
            return target
    return None


def exposed(stack: Stack, host: str, port: int | str) -> bool:
    return str(port) in {str(p) for p in stack.services.get(host, {}).get("expose", [])}


def prometheus_problems(stack: Stack) -> list[str]:
    """Prometheus's rule files are the repository's rules as mounted, its targets are the
    services that serve them, the exporter's job is the contract's."""
    config = yaml_file(stack, "prometheus")
    problems = []
    if bind_target(stack, "prometheus", FILES["prometheus"]) is None:
        problems.append(f"the prometheus service does not mount {FILES['prometheus']}")
    rules_target = bind_target(stack, "prometheus", "deploy/prometheus/rules")
    globs = config.get("rule_files") or []
    if rules_target is None:
        problems.append("the prometheus service does not mount deploy/prometheus/rules")
    for pattern in globs:
        if rules_target is None or not pattern.startswith(rules_target + "/"):
            problems.append(f"rule_files {pattern} is not under the mounted rules folder")
            continue
        local = ROOT / "deploy" / "prometheus" / "rules" / pattern.removeprefix(rules_target + "/")
        matched = sorted(p.name for p in local.parent.glob(local.name))
        if "civic.yml" not in matched:
            problems.append(f"rule_files {pattern} does not match the repository's civic.yml")
    if not globs:
        problems.append("Prometheus loads no rule file")
    jobs = {job["job_name"]: job for job in config.get("scrape_configs", [])}
    exporter = jobs.get(EXPORTER_JOB)
    if exporter is None:
        problems.append(f"no scrape job {EXPORTER_JOB!r} (the alert rules select on it)")
    targets = [
        (job_name, target)
        for job_name, job in jobs.items()
        for static in job.get("static_configs", [])
        for target in static.get("targets", [])
    ]
    for job_name, target in targets:
        host, _, port = target.rpartition(":")
        if host not in ("localhost", "127.0.0.1") and not exposed(stack, host, port):
            problems.append(f"job {job_name} scrapes {target}, which no service exposes")
    if exporter is not None:
        command = command_text(stack.services.get("civic-exporter", {}))
        ports = re.findall(r"--port (\d+)", command)
        for static in exporter.get("static_configs", []):
            for target in static.get("targets", []):
                if target.rpartition(":")[2] not in ports:
                    problems.append(
                        f"job {EXPORTER_JOB} scrapes {target}; the exporter serves {ports}"
                    )
        if "--host 0.0.0.0" not in command:
            problems.append("the exporter listens on the loopback only: Prometheus cannot reach it")
    for manager in (config.get("alerting") or {}).get("alertmanagers", []):
        for static in manager.get("static_configs", []):
            for target in static.get("targets", []):
                host, _, port = target.rpartition(":")
                if not exposed(stack, host, port):
                    problems.append(f"alerts go to {target}, which no service exposes")
    if not (config.get("alerting") or {}).get("alertmanagers"):
        problems.append("Prometheus sends its alerts nowhere")
    return problems


# The webhook URL placeholder of deploy/alertmanager/alertmanager.yml, replaced at start.
AM_PLACEHOLDER = re.compile(r'sed "s\|([^|]+)\|')


def alertmanager_script(stack: Stack) -> str:
    command = stack.services.get("alertmanager", {}).get("command") or []
    return (command[0] if isinstance(command, list) and command else str(command)).replace(
        "$$", "$"
    )


def alertmanager_problems(stack: Stack) -> list[str]:
    """The compose Alertmanager renders the repository's routes: the placeholder its start
    script replaces is the webhook receiver's URL there, and the file it reads is the one
    mounted."""
    problems = []
    script = alertmanager_script(stack)
    target = bind_target(stack, "alertmanager", FILES["alertmanager"])
    if target is None:
        return [f"the alertmanager service does not mount {FILES['alertmanager']}"]
    if target not in script:
        problems.append(f"the alertmanager start script does not read {target}")
    placeholder = AM_PLACEHOLDER.search(script)
    config = yaml_file(stack, "alertmanager")
    urls = [
        hook.get("url")
        for receiver in config.get("receivers", [])
        for hook in receiver.get("webhook_configs", []) or []
    ]
    if placeholder is None or placeholder.group(1) not in urls:
        problems.append(
            f"the start script replaces {placeholder and placeholder.group(1)!r}; the routes' "
            f"webhook URLs are {urls}"
        )
    if "CIVIC_ALERT_WEBHOOK_URL" not in environment(stack.services.get("alertmanager", {})):
        problems.append("the alertmanager service is not given CIVIC_ALERT_WEBHOOK_URL")
    return problems


def datasource_uid(stack: Stack) -> str | None:
    sources = yaml_file(stack, "grafana_datasources").get("datasources") or []
    return next((s.get("uid") for s in sources if s.get("type") == "prometheus"), None)


def grafana_provisioning_problems(stack: Stack) -> list[str]:
    """The provisioning files are mounted where Grafana reads them, the data source is the
    stack's Prometheus, and the dashboards' provider reads the mounted dashboards folder."""
    problems = []
    for key, folder in (
        ("grafana_datasources", "/etc/grafana/provisioning/datasources"),
        ("grafana_dashboards", "/etc/grafana/provisioning/dashboards"),
    ):
        source = FILES[key].rsplit("/", 1)[0]
        if bind_target(stack, "grafana", source) != folder:
            problems.append(f"grafana does not mount {source} at {folder}")
    datasources = yaml_file(stack, "grafana_datasources")
    sources = datasources.get("datasources") or []
    prometheus = [s for s in sources if s.get("type") == "prometheus"]
    if datasources.get("apiVersion") != 1 or len(prometheus) != 1:
        problems.append("the data source file is not one apiVersion 1 Prometheus data source")
    for source in prometheus:
        url = urlsplit(str(source.get("url", "")))
        if not (url.hostname and exposed(stack, url.hostname, url.port or 80)):
            problems.append(f"the data source's url {source.get('url')} reaches no service")
        if not source.get("uid"):
            problems.append("the Prometheus data source has no uid for the dashboards to name")
    providers = yaml_file(stack, "grafana_dashboards").get("providers") or []
    mounted = bind_target(stack, "grafana", DASHBOARDS_DIR)
    if not providers:
        problems.append("no dashboard provider")
    for provider in providers:
        path = (provider.get("options") or {}).get("path")
        if provider.get("type") != "file" or path != mounted:
            problems.append(
                f"provider {provider.get('name')} reads {path}; {DASHBOARDS_DIR} is mounted "
                f"at {mounted}"
            )
        if provider.get("allowUiUpdates"):
            problems.append("dashboards edited in the UI would drift from the files")
    return problems


def dashboards(stack: Stack) -> dict[str, Any]:
    """Each dashboard file's key -> its parsed JSON (a parse error is the error's text)."""
    found: dict[str, Any] = {}
    for key in stack.paths:
        if key.startswith("dashboard:"):
            try:
                found[key] = json.loads(stack.text(key))
            except ValueError as exc:
                found[key] = f"not JSON: {exc}"
    return found


def panels_of(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    found = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


LABEL_VALUES = re.compile(r"label_values\(\s*(.*?)\s*,\s*([A-Za-z_]\w*)\s*\)")


def dashboard_problems(stack: Stack) -> list[str]:
    """Each dashboard parses, has a unique uid and a French title, lays its panels out on
    Grafana's 24-column grid without overlap, names the provisioned data source, and reads
    only the contract's metrics and labels."""
    problems = []
    uid = datasource_uid(stack)
    found = dashboards(stack)
    if len(found) < 3:
        problems.append(
            f"{len(found)} dashboards; expected pipeline health, data quality, freshness"
        )
    uids: dict[str, str] = {}
    for key, dashboard in found.items():
        where = FILES.get(key, key)
        if isinstance(dashboard, str):
            problems.append(f"{where}: {dashboard}")
            continue
        if not dashboard.get("uid") or dashboard["uid"] in uids:
            problems.append(f"{where}: uid {dashboard.get('uid')!r} missing or not unique")
        uids[str(dashboard.get("uid"))] = key
        title = str(dashboard.get("title", ""))
        if not re.search(r"[àâçéèêëîïôûùüÿœ]|\b(?:du|des|de|la|le|les)\b", title, re.IGNORECASE):
            problems.append(f"{where}: title {title!r} is not French")
        cells: dict[tuple[int, int], int] = {}
        ids = set()
        for panel in panels_of(dashboard):
            name = f"{where}: panel {panel.get('title')!r}"
            if panel.get("id") in ids or not isinstance(panel.get("id"), int):
                problems.append(f"{name}: id {panel.get('id')!r} missing or repeated")
            ids.add(panel.get("id"))
            pos = panel.get("gridPos") or {}
            if not all(isinstance(pos.get(k), int) for k in ("h", "w", "x", "y")):
                problems.append(f"{name}: gridPos {pos} is not four integers")
                continue
            if pos["x"] < 0 or pos["w"] <= 0 or pos["x"] + pos["w"] > 24:
                problems.append(f"{name}: gridPos {pos} is off Grafana's 24 columns")
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    if (x, y) in cells:
                        problems.append(f"{name}: overlaps panel {cells[(x, y)]}")
                        break
                    cells[(x, y)] = panel["id"]
                else:
                    continue
                break
            if panel.get("type") == "row":
                continue
            if not panel.get("title"):
                problems.append(f"{name}: no title")
            sources = [
                panel.get("datasource"),
                *(t.get("datasource") for t in panel.get("targets", [])),
            ]
            for source in sources:
                if not isinstance(source, dict) or source.get("uid") != uid:
                    problems.append(f"{name}: data source {source} is not the provisioned {uid!r}")
            if not panel.get("targets"):
                problems.append(f"{name}: no query")
            for target in panel.get("targets", []):
                if not target.get("refId") or not target.get("expr"):
                    problems.append(f"{name}: a query without refId or expr")
                    continue
                problems += selector_problems(target["expr"], f"{name} {target['refId']}")
        for variable in (dashboard.get("templating") or {}).get("list", []):
            query = variable.get("query")
            text = query.get("query", "") if isinstance(query, dict) else str(query or "")
            match = LABEL_VALUES.fullmatch(text.strip())
            vname = f"{where}: variable {variable.get('name')}"
            if (variable.get("datasource") or {}).get("uid") != uid:
                problems.append(f"{vname}: not the provisioned data source")
            if match is None:
                problems.append(f"{vname}: not a label_values(metric, label) query: {text!r}")
                continue
            problems += selector_problems(match.group(1), vname)
            labels = {s.metric: s for s in promql_selectors(match.group(1))}
            for metric in labels:
                if metric in CONTRACT_METRICS and match.group(2) not in CONTRACT_METRICS[metric]:
                    problems.append(f"{vname}: {metric} has no label {match.group(2)}")
    return problems


def _schema_diff(written: Any, read: Any, path: str) -> list[str]:
    """What Grafana's model dropped or changed of `written` (defaults it adds are fine)."""
    if isinstance(written, dict):
        if not isinstance(read, dict):
            return [f"{path}: read back as {type(read).__name__}"]
        found = []
        for key, value in written.items():
            if key not in read:
                found.append(f"{path}.{key}: not in Grafana's dashboard model")
            else:
                found += _schema_diff(value, read[key], f"{path}.{key}")
        return found
    if isinstance(written, list):
        if not isinstance(read, list) or len(read) != len(written):
            return [f"{path}: read back as {read!r}"]
        return [
            p
            for i, (w, r) in enumerate(zip(written, read, strict=True))
            for p in _schema_diff(w, r, f"{path}[{i}]")
        ]
    return [] if written == read else [f"{path}: {written!r} read back as {read!r}"]


def grafana_schema_problems(stack: Stack) -> list[str]:
    """Each dashboard read into Grafana's own dashboard model and written back unchanged;
    its panels' and queries' types are ones the model knows (else their options and query
    fields would pass unread)."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.cog.runtime import Runtime
    from grafana_foundation_sdk.models.dashboard import Dashboard

    register_default_plugins()
    runtime = Runtime()
    problems = []
    for key, dashboard in dashboards(stack).items():
        where = FILES.get(key, key)
        if isinstance(dashboard, str):
            problems.append(f"{where}: {dashboard}")
            continue
        read = json.loads(json.dumps(Dashboard.from_json(dashboard), cls=JSONEncoder))
        problems += [f"{where}: {p}" for p in _schema_diff(dashboard, read, "$")]
        for panel in panels_of(dashboard):
            kind = panel.get("type")
            if kind != "row" and kind not in runtime.panelcfg_variants:
                problems.append(f"{where}: panel {panel.get('title')!r}: unknown type {kind!r}")
            for target in panel.get("targets", []):
                query_type = (target.get("datasource") or {}).get("type")
                if query_type not in runtime.dataquery_variants:
                    problems.append(f"{where}: a query of unknown type {query_type!r}")
    return problems


CHECKS: dict[str, Callable[[Stack], list[str]]] = {
    "schema": schema_problems,
    "depends_on": depends_on_problems,
    "volumes": volume_problems,
    "bind_mounts": bind_mount_problems,
    "env_vars": env_var_problems,
    "literal_secrets": literal_secret_problems,
    "airflow_env": airflow_env_problems,
    "images": image_problems,
    "healthchecks": healthcheck_problems,
    "postgres_tls": postgres_tls_problems,
    "proxy": proxy_problems,
    "public_data": public_data_problems,
    "realm": realm_problems,
    "airflow_sign_in": airflow_sign_in_problems,
    "airflow_client": airflow_client_problems,
    "prometheus": prometheus_problems,
    "alertmanager": alertmanager_problems,
    "grafana_provisioning": grafana_provisioning_problems,
    "dashboards": dashboard_problems,
    "grafana_schema": grafana_schema_problems,
}


@pytest.mark.parametrize("check", CHECKS)
def test_stack(check: str) -> None:
    assert CHECKS[check](repo_stack()) == []


# -- the checks catch what they are for: each broken once, in a copy ---------------------


def _client(realm: dict[str, Any], client_id: str) -> dict[str, Any]:
    return next(c for c in realm["clients"] if c["clientId"] == client_id)


def _otp_optional(realm: dict[str, Any]) -> None:
    for flow in realm["authenticationFlows"]:
        for execution in flow["authenticationExecutions"]:
            if execution.get("authenticator") == "auth-otp-form":
                execution["requirement"] = "CONDITIONAL"


PG_PASSWORD = "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in deploy/.env}"
REDIS_AUTH = "REDISCLI_AUTH: ${REDIS_PASSWORD:?set REDIS_PASSWORD in deploy/.env}"
PSEUDONYM_KEY = '"password":"${CIVIC_PSEUDONYM_KEY:?set CIVIC_PSEUDONYM_KEY in deploy/.env}"'
DUMB_INIT = '      DUMB_INIT_SETSID: "0"\n'
OWN_JWT = DUMB_INIT + "      AIRFLOW__API_AUTH__JWT_SECRET: other\n"
S3_INIT_DONE = "s3-init:\n        condition: service_completed_successfully"
S3_INIT_HEALTHY = "s3-init:\n        condition: service_healthy"
KC_SECRET = "KEYCLOAK_SUPERSET_CLIENT_SECRET: ${"
AIRFLOW_BASE = "FROM apache/airflow:3.3.2-python3.11"
AIRFLOW_OTHER = AIRFLOW_BASE.replace("3.3.2", "3.3.1")
BAO_CHECK = 'test: ["CMD-SHELL", "bao'
VERIFY = "superset?sslmode=verify-full"
KC_OPTION = "    AIRFLOW__KEYCLOAK_AUTH_MANAGER__"
KC_MANAGER = "airflow.providers.keycloak.auth_manager.keycloak_auth_manager.KeycloakAuthManager"
SIMPLE_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
KC_CLIENT_ID = KC_OPTION + "CLIENT_ID: airflow\n"
KC_SERVER_URL = KC_OPTION + "SERVER_URL: http://keycloak:8080\n"
AIRFLOW_KC_SECRET = (
    "${KEYCLOAK_AIRFLOW_CLIENT_SECRET:?set KEYCLOAK_AIRFLOW_CLIENT_SECRET in deploy/.env}"
)
API_KC_SECRET = "  " + KC_OPTION + "CLIENT_SECRET: " + AIRFLOW_KC_SECRET + "\n"
# name: (the check that must notice, text replaced in docker-compose.airflow.yml, replacement)
COMPOSE_BREAKAGES = {
    "unknown key": ("schema", "    restart: always\n", "    restrat: always\n"),
    "depends on a typo": ("depends_on", "      s3-init:\n", "      s3init:\n"),
    "healthy on a one-shot": ("depends_on", S3_INIT_DONE, S3_INIT_HEALTHY),
    "undeclared volume": ("volumes", "- minio-data:/data", "- minio-dat:/data"),
    "missing bind source": ("bind_mounts", "pg_hba.conf:/etc", "pg_hba.cnf:/etc"),
    "unlisted variable": ("env_vars", REDIS_AUTH, REDIS_AUTH.replace("PASSWORD:", "PASSWD:")),
    "secret with a default": ("env_vars", PG_PASSWORD, "${POSTGRES_PASSWORD:-postgres}"),
    "realm placeholder not given": ("env_vars", KC_SECRET, KC_SECRET.replace("CLIENT_", "")),
    "literal password": ("literal_secrets", REDIS_AUTH, "REDISCLI_AUTH: hunter2"),
    "password in a connection": ("literal_secrets", PSEUDONYM_KEY, '"password":"0123abcd"'),
    "worker with its own JWT secret": ("airflow_env", DUMB_INIT, OWN_JWT),
    "no triggerer": ("airflow_env", "command: triggerer\n", "command: version\n"),
    "latest image": ("images", "image: redis:7.2.5-bookworm", "image: redis:latest"),
    "untagged image": ("images", "image: caddy:2.10.2-alpine", "image: caddy"),
    "no healthcheck": ("healthchecks", BAO_CHECK, BAO_CHECK.replace("test", "tset")),
    "client without verify-full": (
        "postgres_tls",
        VERIFY,
        VERIFY.replace("verify-full", "require"),
    ),
    "Airflow back on SimpleAuthManager": ("airflow_sign_in", KC_MANAGER, SIMPLE_MANAGER),
    "no Keycloak client id": ("airflow_sign_in", KC_CLIENT_ID, ""),
    "client id of no client": ("airflow_sign_in", KC_CLIENT_ID, KC_CLIENT_ID.replace("w", "")),
    "no Keycloak realm": ("airflow_sign_in", KC_OPTION + "REALM: civic\n", ""),
    "no Keycloak server URL": ("airflow_sign_in", KC_SERVER_URL, ""),
    "Keycloak server URL to a closed port": (
        "airflow_sign_in",
        KC_SERVER_URL,
        KC_SERVER_URL.replace("8080", "8443"),
    ),
    "callback base URL not proxied": (
        "airflow_sign_in",
        "AIRFLOW__API__BASE_URL: https://airflow.",
        "AIRFLOW__API__BASE_URL: https://airflow-internal.",
    ),
    "api-server without the client secret": ("airflow_sign_in", API_KC_SECRET, ""),
    "api-server with Superset's client secret": (
        "airflow_sign_in",
        API_KC_SECRET,
        API_KC_SECRET.replace("AIRFLOW_CLIENT", "SUPERSET_CLIENT"),
    ),
    "client secret in every component": (
        "airflow_sign_in",
        KC_CLIENT_ID,
        KC_CLIENT_ID + KC_OPTION + "CLIENT_SECRET: " + AIRFLOW_KC_SECRET + "\n",
    ),
    "prometheus without the rules": (
        "prometheus",
        "./deploy/prometheus/rules:/etc/prometheus/rules:ro",
        "./deploy/prometheus/rules:/etc/prometheus/rule:ro",
    ),
    "exporter on the loopback": ("prometheus", '"--host", "0.0.0.0", ', ""),
    "alertmanager reads another file": (
        "alertmanager",
        "/etc/alertmanager/civic.yml:ro",
        "/etc/alertmanager/routes.yml:ro",
    ),
    "grafana without its dashboards": (
        "grafana_provisioning",
        "./deploy/grafana/dashboards:/etc/grafana/dashboards/civic:ro",
        "./deploy/grafana/dashboards:/etc/grafana/civic:ro",
    ),
    "grafana's client secret not given to keycloak": (
        "env_vars",
        "      KEYCLOAK_GRAFANA_CLIENT_SECRET: ${KEYCLOAK_GRAFANA_CLIENT_SECRET:?set "
        "KEYCLOAK_GRAFANA_CLIENT_SECRET in deploy/.env}\n    volumes:",
        "    volumes:",
    ),
    "api-server ignores the proxy's headers": (
        "airflow_sign_in",
        "command: api-server --proxy-headers\n",
        "command: api-server\n",
    ),
}
# name: (the check that must notice, the file broken, text replaced, replacement)
OTHER_BREAKAGES = {
    "secret value in env.example": ("env_vars", "env", "REDIS_PASSWORD=\n", "REDIS_PASSWORD=x\n"),
    "Dockerfile drifts from the pin": ("images", "dockerfile", AIRFLOW_BASE, AIRFLOW_OTHER),
    "proxy to a closed port": ("proxy", "caddy", "superset:8088", "superset:8089"),
    "releases writable": ("public_data", "caddy", "method GET HEAD", "method GET HEAD PUT"),
    "raw zone served": ("public_data", "caddy", "path /civic-public/*", "path /*"),
    "everything proxied": ("public_data", "caddy", 'respond "Seules', "reverse_proxy minio:9000 #"),
    "exporter's job renamed": ("prometheus", "prometheus", "job_name: civic\n", "job_name: x\n"),
    "exporter scraped on another port": (
        "prometheus",
        "prometheus",
        "civic-exporter:9464",
        "civic-exporter:9465",
    ),
    "rule files that match nothing": ("prometheus", "prometheus", "rules/*.yml", "rules/*.yaml"),
    "alerts to a closed port": ("prometheus", "prometheus", '["alertmanager:9093"]', '["am:9093"]'),
    "webhook placeholder changed": (
        "alertmanager",
        "alertmanager",
        "url: http://127.0.0.1:9/set-CIVIC_ALERT_WEBHOOK_URL",
        "url: http://127.0.0.1:9/set-the-url",
    ),
    "data source on a closed port": (
        "grafana_provisioning",
        "grafana_datasources",
        "url: http://prometheus:9090",
        "url: http://prometheus:9091",
    ),
    "data source uid the dashboards do not name": (
        "dashboards",
        "grafana_datasources",
        "uid: civic-prometheus",
        "uid: prometheus",
    ),
    "provider reading another folder": (
        "grafana_provisioning",
        "grafana_dashboards",
        "path: /etc/grafana/dashboards/civic",
        "path: /var/lib/grafana/dashboards",
    ),
    "dashboards editable in the UI": (
        "grafana_provisioning",
        "grafana_dashboards",
        "allowUiUpdates: false",
        "allowUiUpdates: true",
    ),
    "dashboard metric outside the contract": (
        "dashboards",
        "dashboard:pipeline-health",
        '"expr": "civic_ledger_entries"',
        '"expr": "civic_ledger_entry_count"',
    ),
    "dashboard label outside the contract": (
        "dashboards",
        "dashboard:data-quality",
        "civic_run_redaction_ratio{source",
        'civic_run_redaction_ratio{kind=\\"x\\",source',
    ),
    "dashboard that is not JSON": (
        "dashboards",
        "dashboard:release-freshness",
        "{",
        "",
    ),
}
TEXT_BREAKAGES = {
    **{name: (check, "compose", old, new) for name, (check, old, new) in COMPOSE_BREAKAGES.items()},
    **OTHER_BREAKAGES,
}
# name: how the realm is broken (the realm check must notice)
REALM_BREAKAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "group missing": lambda r: r["groups"].pop(),
    "TOTP not a default action": lambda r: r["requiredActions"][0].update(defaultAction=False),
    "OTP only when configured": _otp_optional,
    "secret in the realm": lambda r: _client(r, "airflow").update(secret="s3cr3t"),
    "redirect to an unproxied host": lambda r: _client(r, "superset").update(
        redirectUris=["https://grafana.example.org/*"]
    ),
    "no groups claim": lambda r: _client(r, "superset").update(protocolMappers=[]),
    "a user with a password": lambda r: r.update(
        users=[{"username": "a", "credentials": [{"type": "password"}]}]
    ),
}


def _panel(dashboard: dict[str, Any], index: int) -> dict[str, Any]:
    return dashboard["panels"][index]


# name: (the check that must notice, the dashboard, how it is broken)
DASHBOARD_BREAKAGES: dict[str, tuple[str, str, Callable[[dict[str, Any]], Any]]] = {
    "panel off the grid": (
        "dashboards",
        "dashboard:data-quality",
        lambda d: _panel(d, 1)["gridPos"].update(w=30),
    ),
    "panels overlapping": (
        "dashboards",
        "dashboard:data-quality",
        lambda d: _panel(d, 2).update(gridPos=dict(_panel(d, 1)["gridPos"])),
    ),
    "repeated panel id": (
        "dashboards",
        "dashboard:pipeline-health",
        lambda d: _panel(d, 2).update(id=_panel(d, 1)["id"]),
    ),
    "English title": ("dashboards", "dashboard:data-quality", lambda d: d.update(title="Quality")),
    "same uid twice": (
        "dashboards",
        "dashboard:release-freshness",
        lambda d: d.update(uid="civic-data-quality"),
    ),
    "variable on a label the metric lacks": (
        "dashboards",
        "dashboard:data-quality",
        lambda d: d["templating"]["list"][0]["query"].update(
            query="label_values(civic_run_rows, dag_id)"
        ),
    ),
    "query on another data source": (
        "dashboards",
        "dashboard:pipeline-health",
        lambda d: _panel(d, 1)["targets"][0]["datasource"].update(uid="other"),
    ),
    "key Grafana does not know": (
        "grafana_schema",
        "dashboard:data-quality",
        lambda d: _panel(d, 1)["fieldConfig"]["defaults"].update(unitt="s"),
    ),
    "option Grafana does not know": (
        "grafana_schema",
        "dashboard:data-quality",
        lambda d: _panel(d, 1)["options"]["legend"].update(placment="bottom"),
    ),
    "panel type Grafana does not know": (
        "grafana_schema",
        "dashboard:release-freshness",
        lambda d: _panel(d, 0).update(type="stats"),
    ),
    "query type Grafana does not know": (
        "grafana_schema",
        "dashboard:pipeline-health",
        lambda d: _panel(d, 1)["targets"][0]["datasource"].update(type="prometeus"),
    ),
}


@pytest.mark.parametrize("breakage", DASHBOARD_BREAKAGES)
def test_dashboard_checks_catch(breakage: str, tmp_path: Path) -> None:
    check, key, edit = DASHBOARD_BREAKAGES[breakage]

    def broken(text: str) -> str:
        dashboard = json.loads(text)
        edit(dashboard)
        return json.dumps(dashboard)

    assert CHECKS[check](broken_copy(tmp_path, key, broken))


def _authz(realm: dict[str, Any]) -> dict[str, Any]:
    return _client(realm, "airflow")["authorizationSettings"]


def _policy(realm: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in _authz(realm)["policies"] if p["name"] == name)


def _config_list(realm: dict[str, Any], policy: str, key: str, edit: Callable) -> None:
    """Edit one of a policy's name lists (Keycloak keeps them as JSON text in `config`)."""
    config = _policy(realm, policy)["config"]
    config[key] = json.dumps(edit(json.loads(config[key])))


def _drop_resource(realm: dict[str, Any], name: str) -> None:
    _authz(realm)["resources"] = [r for r in _authz(realm)["resources"] if r["name"] != name]


def _attributes(realm: dict[str, Any]) -> dict[str, str]:
    return _client(realm, "airflow")["attributes"]


# name: how the realm's `airflow` client is broken (the airflow_client check must notice)
AIRFLOW_CLIENT_BREAKAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "callback at another path": lambda r: _client(r, "airflow").update(
        redirectUris=["https://airflow.${CIVIC_DOMAIN}/oauth-authorized/keycloak"]
    ),
    "logout callback refused": lambda r: _attributes(r).update(
        {"post.logout.redirect.uris": "https://airflow.${CIVIC_DOMAIN}/logout"}
    ),
    "PKCE required": lambda r: _attributes(r).update({"pkce.code.challenge.method": "S256"}),
    "no authorization services": lambda r: _client(r, "airflow").update(
        authorizationServicesEnabled=False
    ),
    "permissive enforcement": lambda r: _authz(r).update(policyEnforcementMode="PERMISSIVE"),
    "scope LIST missing": lambda r: _authz(r).update(
        scopes=[s for s in _authz(r)["scopes"] if s["name"] != "LIST"]
    ),
    "resource Dag missing": lambda r: _drop_resource(r, "Dag"),
    "menu item without MENU": lambda r: next(
        x for x in _authz(r)["resources"] if x["name"] == "Dags"
    ).update(scopes=[{"name": "GET"}]),
    "unanimous resource server": lambda r: _authz(r).update(decisionStrategy="UNANIMOUS"),
    "analystes read, gouvernance not": lambda r: _policy(r, "Allow-gouvernance")["config"].update(
        roles=json.dumps([{"id": "analystes", "required": False}])
    ),
    "operateurs delete": lambda r: _config_list(
        r, "OperateDags", "scopes", lambda v: [*v, "DELETE"]
    ),
    "operateurs edit variables": lambda r: _config_list(
        r, "OperateDags", "resources", lambda v: [*v, "Variable"]
    ),
    "gouvernance operates": lambda r: _config_list(
        r, "OperateDags", "applyPolicies", lambda v: [*v, "Allow-gouvernance"]
    ),
    "admins lose deletions": lambda r: _config_list(
        r, "Admin", "scopes", lambda v: [s for s in v if s != "DELETE"]
    ),
}


def broken_copy(tmp_path: Path, name: str, edit: Callable[[str], str]) -> Stack:
    """The files copied to `tmp_path`, `name` edited."""
    paths = {}
    for key, rel in FILES.items():
        paths[key] = tmp_path / (key.replace(":", "-") + Path(rel).suffix)
        shutil.copyfile(ROOT / rel, paths[key])
    paths[name].write_text(edit(paths[name].read_text()))
    return Stack(paths)


@pytest.mark.parametrize("breakage", TEXT_BREAKAGES)
def test_each_check_catches(breakage: str, tmp_path: Path) -> None:
    check, name, old, new = TEXT_BREAKAGES[breakage]
    text = (ROOT / FILES[name]).read_text()
    assert old in text, f"{old!r} is no longer in {FILES[name]}: update this breakage"
    assert CHECKS[check](broken_copy(tmp_path, name, lambda t: t.replace(old, new, 1)))


def broken_realm(tmp_path: Path, breakage: Callable[[dict[str, Any]], object]) -> Path:
    """A copy of the project with the realm file edited by `breakage`."""

    def edit(text: str) -> str:
        realm = json.loads(text)
        breakage(realm)
        return json.dumps(realm)

    return broken_copy(tmp_path, "realm", edit)


@pytest.mark.parametrize("breakage", REALM_BREAKAGES)
def test_realm_check_catches(breakage: str, tmp_path: Path) -> None:
    assert realm_problems(broken_realm(tmp_path, REALM_BREAKAGES[breakage]))


@pytest.mark.parametrize("breakage", AIRFLOW_CLIENT_BREAKAGES)
def test_airflow_client_check_catches(breakage: str, tmp_path: Path) -> None:
    assert airflow_client_problems(broken_realm(tmp_path, AIRFLOW_CLIENT_BREAKAGES[breakage]))


@pytest.mark.skipif(
    shutil.which("amtool") is None,
    reason="amtool is not installed (Debian package `prometheus-alertmanager`; "
    "`make monitoring` installs it)",
)
def test_alertmanager_start_script_renders_valid_routes(tmp_path: Path) -> None:
    """The compose Alertmanager's start script, run here by /bin/sh (GNU sed standing in for
    the image's busybox sed), puts a URL with sed's special characters into the routes
    verbatim, and Alertmanager's own `amtool check-config` accepts the result."""
    stack = repo_stack()
    script = alertmanager_script(stack)
    source = bind_target(stack, "alertmanager", FILES["alertmanager"])
    assert source is not None
    rendered = tmp_path / "alertmanager.yml"
    lines = [
        line.replace("> /alertmanager/alertmanager.yml", f"> {rendered}").replace(
            source, str(ROOT / FILES["alertmanager"])
        )
        for line in script.splitlines()
        if not line.lstrip().startswith("exec ")
    ]
    url = "https://tickets.example.org/hooks/am?token=a&b=|c\\d"
    result = subprocess.run(
        ["/bin/sh", "-c", "\n".join(lines)],
        env={"PATH": os.environ["PATH"], "CIVIC_ALERT_WEBHOOK_URL": url},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert rendered.stat().st_mode & 0o077 == 0, "the rendered routes are readable by others"
    config = yaml.safe_load(rendered.read_text())
    hooks = [h["url"] for r in config["receivers"] for h in r.get("webhook_configs") or []]
    assert hooks == [url]
    check = subprocess.run(
        ["amtool", "check-config", str(rendered)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian package `prometheus`; `make monitoring` installs it)",
)
def test_prometheus_config_is_valid(tmp_path: Path) -> None:
    """`promtool check config` accepts the compose stack's Prometheus configuration, with its
    rule files read from where the compose file mounts them from (so the rules are checked
    as Prometheus will load them)."""
    stack = repo_stack()
    config = yaml_file(stack, "prometheus")
    target = bind_target(stack, "prometheus", "deploy/prometheus/rules")
    assert target is not None
    config["rule_files"] = [
        pattern.replace(target, str(ROOT / "deploy" / "prometheus" / "rules"))
        for pattern in config["rule_files"]
    ]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        ["promtool", "check", "config", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "civic.yml" in result.stdout, result.stdout
    assert "SUCCESS" in result.stdout, result.stdout


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian package `prometheus`; `make monitoring` installs it)",
)
def test_dashboard_queries_are_promql(tmp_path: Path) -> None:
    """Every dashboard query parses as PromQL: each becomes a recording rule of a scratch
    rule file, which Prometheus's own parser (`promtool check rules`) reads. Grafana's
    variables stand inside label matchers' strings, so the queries parse as written."""
    rules = []
    for key, dashboard in dashboards(repo_stack()).items():
        for panel in panels_of(dashboard):
            for target in panel.get("targets", []):
                name = f"dashboard:{key.split(':')[1]}:{panel['id']}:{target['refId']}"
                rules.append({"record": name.replace("-", "_"), "expr": target["expr"]})
    assert rules
    path = tmp_path / "dashboards.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout, result.stdout
