"""Single sign-on into Superset through a real OpenID Connect provider, in headless Chromium.

Production signs analysts in through Keycloak (docker-compose.airflow.yml); no Keycloak
runs here, so the test session starts the certified `oidc-provider` library from npm
(tests/oidc/, `make oidc`) as the provider, and a second Superset of the session's
platform configured exactly as the compose stack's is: `CIVIC_OIDC_ISSUER` and a
client, nothing else (superset/superset_config.py, superset/civic_security.py). The
browser goes through the provider's own login form, as a person does. What is proved:

- an `analystes` member lands on the dashboard they asked for, sees every chart drawn,
  holds the `Analyste` role only, sees the civic dashboards and nothing else, and is
  refused every write (a dashboard edit, a new chart, a SQL query) by Superset itself;
- a person whose groups give no Superset role (no group, `operateurs`), and a provider
  account named like the local `admin` (it would take over the refresh DAG's account),
  are refused: no session;
- logout ends both sessions: Superset's, and the provider's (the next sign-in asks for
  the password again).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from include.dag_helpers import source_names
from include.services.processes import free_port
from include.services.stack import LocalPlatform
from include.services.superset_runtime import SupersetServer
from include.superset.client import SupersetClient
from tests.oidc_provider import OidcAccount, OidcClient, start_oidc_provider
from tests.superset.conftest import RunningSuperset
from tests.superset.test_dashboards_browser import (
    ARTIFACTS_DIR,
    LOGIN_TIMEOUT_MS,
    chart_problem,
    chromium_context,
    chromium_path,  # noqa: F401 - the fixture, shared
    dashboard_asset,
    imported_assets,  # noqa: F401 - the fixture, shared
    visit_dashboard,
)

pytestmark = [pytest.mark.superset, pytest.mark.integration, pytest.mark.slow]

PROVIDER_NAME = "keycloak"  # superset_config.py's provider; the realm's redirect URI ends so
SOURCE = "signalements"


@dataclass(frozen=True)
class SsoSuperset:
    """A Superset that signs people in through the session's OpenID Connect provider."""

    base_url: str
    issuer: str
    accounts: dict[str, OidcAccount]


def _account(username: str, groups: list[str]) -> OidcAccount:
    return OidcAccount(
        username=username,
        password=secrets.token_urlsafe(16),
        email=f"{username}@ville.example",
        given_name=username.capitalize(),
        family_name="Test",
        groups=groups,
    )


@pytest.fixture(scope="module")
def sso_superset(
    platform: LocalPlatform,
    superset_server: RunningSuperset,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SsoSuperset]:
    """The provider, then a second Superset on the session's metadata (roles set up by the
    session's Superset: `superset init` ran with the civic security manager)."""
    folder = tmp_path_factory.mktemp("sso")
    base_url = f"http://127.0.0.1:{free_port()}"
    accounts = {
        "analyste": _account("analyste", ["analystes"]),
        "sansgroupe": _account("sansgroupe", []),
        "operateur": _account("operateur", ["operateurs"]),
        "admin": _account("admin", ["admins"]),
    }
    client = OidcClient(
        client_id="superset",
        client_secret=secrets.token_urlsafe(32),
        redirect_uris=[f"{base_url}/oauth-authorized/{PROVIDER_NAME}"],
        post_logout_redirect_uris=[f"{base_url}/login/"],
    )
    provider = start_oidc_provider(folder, [client], list(accounts.values()))
    server = SupersetServer(folder, int(base_url.rsplit(":", 1)[1]))
    env = {
        **platform.process_env(),
        "CIVIC_OIDC_ISSUER": provider.issuer,
        "CIVIC_OIDC_CLIENT_ID": client.client_id,
        "CIVIC_OIDC_CLIENT_SECRET": client.client_secret,
    }
    try:
        server.start(env)
        yield SsoSuperset(base_url, provider.issuer, accounts)
    finally:
        server.stop()
        provider.stop()


@pytest.fixture
def browser(chromium_path: str, tmp_path: Path) -> Iterator[BrowserContext]:  # noqa: F811
    """A fresh Chromium profile per test: no session carried from one person to the next."""
    with chromium_context(chromium_path, tmp_path / "chromium-profile") as context:
        yield context


def sign_in(page: Page, sso: SsoSuperset, account: OidcAccount, start: str) -> None:
    """From `start` (a Superset page), through Superset's sign-in button and the provider's
    form, until the browser is back at Superset."""
    page.goto(f"{sso.base_url}{start}")
    page.wait_for_url(lambda url: "/login/" in url, timeout=LOGIN_TIMEOUT_MS)
    page.click(f'a[href*="/login/{PROVIDER_NAME}"]', timeout=LOGIN_TIMEOUT_MS)
    provider_form(page, sso)
    page.fill('input[name="username"]', account.username)
    page.fill('input[name="password"]', account.password)
    page.click('button[type="submit"]')
    page.wait_for_url(lambda url: url.startswith(sso.base_url), timeout=LOGIN_TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=LOGIN_TIMEOUT_MS)


def provider_form(page: Page, sso: SsoSuperset) -> None:
    """Wait for the provider's password form: it, not Superset, asks for the password."""
    page.wait_for_url(lambda url: url.startswith(sso.issuer), timeout=LOGIN_TIMEOUT_MS)
    page.wait_for_selector('input[name="password"]', timeout=LOGIN_TIMEOUT_MS)


def signed_in_user(context: BrowserContext, sso: SsoSuperset) -> str | None:
    """The username Superset's API sees for this browser's cookies, None if nobody."""
    response = context.request.get(f"{sso.base_url}/api/v1/me/")
    if response.status == 401:
        return None
    assert response.ok, f"/api/v1/me/ answered {response.status}: {response.text()[:300]}"
    return str(response.json()["result"]["username"])


@pytest.mark.usefixtures("imported_assets")
def test_an_analyst_signs_in_and_reads_the_civic_dashboards_only(
    sso_superset: SsoSuperset, browser: BrowserContext
) -> None:
    sso, account = sso_superset, sso_superset.accounts["analyste"]
    asset = dashboard_asset(SOURCE)
    page = browser.new_page()
    sign_in(page, sso, account, f"/superset/dashboard/{asset.slug}/")

    assert page.url.startswith(f"{sso.base_url}/superset/dashboard/{asset.slug}"), (
        f"after signing in, the analyst is on {page.url}, not the dashboard they asked for"
    )
    assert signed_in_user(browser, sso) == account.username
    roles = browser.request.get(f"{sso.base_url}/api/v1/me/roles/").json()["result"]["roles"]
    assert set(roles) == {"Analyste"}, f"the analyst holds {sorted(roles)}, not Analyste only"

    screenshot = ARTIFACTS_DIR / f"superset-sso-{SOURCE}.png"
    visit = visit_dashboard(browser, sso.base_url, asset, screenshot)
    problems = [p for p in map(chart_problem, visit.charts) if p]
    assert visit.timed_out is None, f"{visit.timed_out} (screenshot: {screenshot})"
    assert not problems, f"the analyst's dashboard: {problems} (screenshot: {screenshot})"
    assert sorted(c["name"] for c in visit.charts) == sorted(asset.chart_names)

    listed = browser.request.get(f"{sso.base_url}/api/v1/dashboard/").json()["result"]
    assert sorted(d["dashboard_title"] for d in listed) == sorted(
        dashboard_asset(source).title for source in source_names()
    ), "the analyst's dashboard list is not exactly the civic dashboards"

    # Read-only, enforced by Superset (CSRF token in hand, so only the role can refuse).
    csrf = page.evaluate("document.getElementById('csrf_token')?.value")
    assert csrf, "Superset's page carries no CSRF token: the write checks would prove nothing"
    headers = {"X-CSRFToken": csrf, "Referer": sso.base_url}
    dashboard_id = next(d["id"] for d in listed if d["dashboard_title"] == asset.title)
    writes = {
        "edit the dashboard": browser.request.put(
            f"{sso.base_url}/api/v1/dashboard/{dashboard_id}",
            data={"dashboard_title": "modifié"},
            headers=headers,
        ),
        "create a chart": browser.request.post(
            f"{sso.base_url}/api/v1/chart/",
            data={
                "slice_name": "nouveau",
                "viz_type": "table",
                "datasource_id": 1,
                "datasource_type": "table",
            },
            headers=headers,
        ),
        "run SQL": browser.request.post(
            f"{sso.base_url}/api/v1/sqllab/execute/",
            data={"database_id": 1, "sql": "SELECT 1"},
            headers=headers,
        ),
    }
    allowed = {what: r.status for what, r in writes.items() if r.status != 403}
    assert not allowed, f"an analyst may {allowed} (HTTP status): the role must refuse (403)"
    for path in ("/api/v1/database/", "/api/v1/query/", "/api/v1/log/"):
        status = browser.request.get(f"{sso.base_url}{path}").status
        assert status == 403, f"an analyst reads {path} (HTTP {status})"
    still = browser.request.get(f"{sso.base_url}/api/v1/dashboard/{dashboard_id}").json()
    assert still["result"]["dashboard_title"] == asset.title


@pytest.mark.parametrize("who", ["sansgroupe", "operateur", "admin"])
def test_no_superset_role_no_access(
    who: str, sso_superset: SsoSuperset, browser: BrowserContext
) -> None:
    """No group, a group without a Superset role, or a name that is a local account."""
    page = browser.new_page()
    sign_in(page, sso_superset, sso_superset.accounts[who], "/superset/welcome/")

    assert signed_in_user(browser, sso_superset) is None, (
        f"{who} got a Superset session through single sign-on"
    )
    assert "/login/" in page.url, f"{who} was let through to {page.url}"


def test_logout_ends_superset_and_provider_sessions(
    sso_superset: SsoSuperset, browser: BrowserContext
) -> None:
    sso, account = sso_superset, sso_superset.accounts["analyste"]
    page = browser.new_page()
    sign_in(page, sso, account, "/superset/welcome/")
    assert signed_in_user(browser, sso) == account.username

    page.goto(f"{sso.base_url}/logout/")
    page.wait_for_url(f"{sso.base_url}/login/**", timeout=LOGIN_TIMEOUT_MS)
    assert signed_in_user(browser, sso) is None, "still signed in to Superset after logout"

    # The provider's session ended too: signing in again asks for the password.
    page.click(f'a[href*="/login/{PROVIDER_NAME}"]', timeout=LOGIN_TIMEOUT_MS)
    provider_form(page, sso)


def test_the_refresh_dags_local_admin_still_uses_the_rest_api(
    sso_superset: SsoSuperset, superset_server: RunningSuperset
) -> None:
    """Single sign-on is for people; the refresh DAG signs in to the REST API with the
    local admin's password (the `civic_superset` connection), and still may."""
    with SupersetClient(
        sso_superset.base_url, superset_server.username, superset_server.password
    ) as client:
        titles = {d["dashboard_title"] for d in client.dashboards()}
    assert titles >= {dashboard_asset(source).title for source in source_names()}
