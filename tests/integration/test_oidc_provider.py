"""The test session's OpenID Connect provider, driven as a relying party drives Keycloak.

Why: the platform's sign-in code is to be tested against a real provider (#15); this
test proves the provider is one. With plain HTTP (requests, no browser, no mock) it runs
the authorization-code flow with PKCE S256 through the login form, checks the ID token's
signature against the provider's JWKS, reads the groups from userinfo, and signs out
through RP-initiated logout, after which the provider asks for the password again.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests

from tests.oidc_provider import (
    OidcAccount,
    OidcClient,
    RunningOidcProvider,
    start_oidc_provider,
)

pytestmark = pytest.mark.integration

# The relying party is not running: the test reads the redirects aimed at it, never follows them.
RP = "http://127.0.0.1:9"
REDIRECT_URI = f"{RP}/auth/oauth-authorized/keycloak"
POST_LOGOUT_URI = f"{RP}/auth/logout-done"
SCOPE = "openid profile email groups"
WRONG_PASSWORD_ERROR = "Identifiant ou mot de passe incorrect."

CLIENT = OidcClient(
    client_id="civic-airflow",
    client_secret=secrets.token_urlsafe(24),
    redirect_uris=(REDIRECT_URI,),
    post_logout_redirect_uris=(POST_LOGOUT_URI,),
)
ACCOUNT = OidcAccount(
    username="camille.durand",
    password=secrets.token_urlsafe(16),
    email="camille.durand@example.org",
    given_name="Camille",
    family_name="Durand",
    groups=("civic-admins", "civic-viewers"),
)


@dataclass
class Form:
    action: str
    method: str
    inputs: dict[str, str] = field(default_factory=dict)
    input_types: dict[str, str] = field(default_factory=dict)
    buttons: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    """The forms of a page, their inputs and buttons, and the page's visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.text: list[str] = []
        self._form: Form | None = None
        self._in_button = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "form":
            self._form = Form(values.get("action", ""), values.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and "name" in values:
            self._form.inputs[values["name"]] = values.get("value", "")
            self._form.input_types[values["name"]] = values.get("type", "text")
        elif tag == "button" and self._form is not None:
            self._in_button = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "form":
            self._form = None
        elif tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._skip or not data.strip():
            return
        self.text.append(data.strip())
        if self._in_button and self._form is not None:
            self._form.buttons.append(data.strip())


def parse(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser


def follow_provider_redirects(
    http: requests.Session, response: requests.Response, issuer: str
) -> requests.Response:
    """Follow redirects while they stay on the provider, as a browser would; stop at the RP."""
    for _ in range(10):
        if not response.is_redirect:
            return response
        location = urljoin(response.url, response.headers["Location"])
        if not location.startswith(issuer + "/"):
            return response
        response = http.get(location, allow_redirects=False, timeout=10)
    raise AssertionError("too many redirects inside the provider")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorization_request(
    http: requests.Session, meta: dict, issuer: str, challenge: str | None
) -> tuple[requests.Response, str, str]:
    """Start a sign-in as the relying party does; the provider's page (or RP redirect) back."""
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": CLIENT.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": state,
        "nonce": nonce,
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    response = http.get(
        meta["authorization_endpoint"], params=params, allow_redirects=False, timeout=10
    )
    return follow_provider_redirects(http, response, issuer), state, nonce


def login_form(response: requests.Response) -> Form:
    assert response.status_code == 200, response.text[:500]
    page = parse(response.text)
    forms = [form for form in page.forms if "username" in form.inputs]
    assert len(forms) == 1, f"no login form in: {' '.join(page.text)[:300]}"
    form = forms[0]
    assert form.method == "post"
    assert form.input_types["password"] == "password"
    assert "Identifiant" in page.text
    assert "Mot de passe" in page.text
    assert form.buttons == ["Se connecter"]
    return form


def submit_login(
    http: requests.Session, form: Form, page_url: str, username: str, password: str
) -> requests.Response:
    data = {**form.inputs, "username": username, "password": password}
    response = http.post(
        urljoin(page_url, form.action), data=data, allow_redirects=False, timeout=10
    )
    return response


def code_from(response: requests.Response, state: str, issuer: str) -> str:
    assert response.is_redirect, response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    query = parse_qs(urlsplit(location).query)
    assert "error" not in query, query
    assert query["state"] == [state]
    assert query["iss"] == [issuer]  # RFC 9207: the RP can tell which provider answered
    return query["code"][0]


def verified_id_token(id_token: str, meta: dict, issuer: str, nonce: str) -> dict:
    """The ID token's claims, once its RS256 signature checks against the provider's JWKS."""
    jwks = requests.get(meta["jwks_uri"], timeout=10).json()
    assert all("d" not in key and "p" not in key for key in jwks["keys"]), "private key published"
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == "RS256"
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}
    claims = jwt.decode(
        id_token,
        key=keys[header["kid"]].key,
        algorithms=["RS256"],
        audience=CLIENT.client_id,
        issuer=issuer,
        options={"require": ["exp", "iat", "sub", "aud", "iss", "nonce"]},
    )
    assert claims["nonce"] == nonce
    return claims


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningOidcProvider]:
    running = start_oidc_provider(tmp_path_factory.mktemp("oidc"), [CLIENT], [ACCOUNT])
    try:
        yield running
    finally:
        running.stop()


def test_config_holds_secrets_for_its_owner_only(provider: RunningOidcProvider) -> None:
    assert provider.config_file.stat().st_mode & 0o777 == 0o600
    assert CLIENT.client_secret not in repr(provider)
    assert ACCOUNT.password not in repr(provider)
    log = provider.log_file.read_text()
    assert f"oidc-provider listening on {provider.issuer}" in log.splitlines()
    assert ACCOUNT.password not in log
    assert CLIENT.client_secret not in log


def test_authorization_request_without_pkce_is_refused(provider: RunningOidcProvider) -> None:
    meta = provider.metadata()
    assert meta["code_challenge_methods_supported"] == ["S256"]
    with requests.Session() as http:
        response, _, _ = authorization_request(http, meta, provider.issuer, challenge=None)
    assert response.is_redirect
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "code" not in query


def test_code_flow_with_pkce_userinfo_and_logout(provider: RunningOidcProvider) -> None:
    issuer = provider.issuer
    meta = provider.metadata()
    assert meta["issuer"] == issuer
    assert {"openid", "profile", "email", "groups"} <= set(meta["scopes_supported"])
    with requests.Session() as http:
        verifier, challenge = pkce_pair()
        page, state, nonce = authorization_request(http, meta, issuer, challenge)
        form = login_form(page)

        # A wrong password: the form again, with the error, the username kept, and no code.
        refused = submit_login(http, form, page.url, ACCOUNT.username, ACCOUNT.password + "x")
        assert not refused.is_redirect
        refused_form = login_form(refused)
        assert WRONG_PASSWORD_ERROR in parse(refused.text).text
        assert refused_form.inputs["username"] == ACCOUNT.username
        assert "code=" not in refused.text
        # An unknown account is refused the same way.
        unknown = submit_login(http, form, page.url, "nobody", ACCOUNT.password)
        login_form(unknown)
        assert WRONG_PASSWORD_ERROR in parse(unknown.text).text

        # The right password: redirects inside the provider (login, automatic consent), then
        # one to the relying party with the code.
        accepted = submit_login(http, form, page.url, ACCOUNT.username, ACCOUNT.password)
        code = code_from(follow_provider_redirects(http, accepted, issuer), state, issuer)

        token_request = {"grant_type": "authorization_code", "code": code}
        token_request |= {"redirect_uri": REDIRECT_URI}
        basic = (CLIENT.client_id, CLIENT.client_secret)
        # PKCE is checked: a wrong verifier gets no token (and does not spend the code).
        wrong = requests.post(
            meta["token_endpoint"],
            data=token_request | {"code_verifier": pkce_pair()[0]},
            auth=basic,
            timeout=10,
        )
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "invalid_grant"
        tokens = requests.post(
            meta["token_endpoint"],
            data=token_request | {"code_verifier": verifier},
            auth=basic,
            timeout=10,
        )
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        assert body["token_type"].lower() == "bearer"
        assert set(body["scope"].split()) == set(SCOPE.split())

        claims = verified_id_token(body["id_token"], meta, issuer, nonce)
        assert claims["sub"] == ACCOUNT.username
        assert claims["preferred_username"] == ACCOUNT.username
        assert claims["groups"] == list(ACCOUNT.groups)

        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        userinfo = requests.get(meta["userinfo_endpoint"], headers=bearer, timeout=10)
        assert userinfo.status_code == 200, userinfo.text
        assert userinfo.json() == {
            "sub": ACCOUNT.username,
            "preferred_username": ACCOUNT.username,
            "name": "Camille Durand",
            "given_name": ACCOUNT.given_name,
            "family_name": ACCOUNT.family_name,
            "email": ACCOUNT.email,
            "email_verified": True,
            "groups": list(ACCOUNT.groups),
        }

        # While the provider's session lives, a new sign-in needs no password (SSO).
        _, sso_challenge = pkce_pair()
        sso, sso_state, _ = authorization_request(http, meta, issuer, sso_challenge)
        code_from(sso, sso_state, issuer)

        # RP-initiated logout: the page posts itself; without JavaScript, its button does.
        logout_state = secrets.token_urlsafe(8)
        logout_page = http.get(
            meta["end_session_endpoint"],
            params={
                "id_token_hint": body["id_token"],
                "post_logout_redirect_uri": POST_LOGOUT_URI,
                "state": logout_state,
            },
            allow_redirects=False,
            timeout=10,
        )
        assert logout_page.status_code == 200, logout_page.text[:500]
        assert ".submit()" in logout_page.text
        (logout_form,) = parse(logout_page.text).forms
        assert logout_form.inputs["logout"] == "yes"
        assert logout_form.inputs["xsrf"]
        assert logout_form.buttons == ["Se déconnecter"]
        done = http.post(
            urljoin(logout_page.url, logout_form.action),
            data=logout_form.inputs,
            allow_redirects=False,
            timeout=10,
        )
        assert done.status_code == 303
        assert done.headers["Location"] == f"{POST_LOGOUT_URI}?state={logout_state}"

        # The grant went with the session: the access token no longer opens userinfo.
        revoked = requests.get(meta["userinfo_endpoint"], headers=bearer, timeout=10)
        assert revoked.status_code == 401

        # After logout, a new sign-in shows the login form again; this time the client
        # authenticates with client_secret_post, which the provider accepts as well.
        verifier, challenge = pkce_pair()
        page, state, nonce = authorization_request(http, meta, issuer, challenge)
        form = login_form(page)
        accepted = submit_login(http, form, page.url, ACCOUNT.username, ACCOUNT.password)
        code = code_from(follow_provider_redirects(http, accepted, issuer), state, issuer)
        tokens = requests.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
                "client_id": CLIENT.client_id,
                "client_secret": CLIENT.client_secret,
            },
            timeout=10,
        )
        assert tokens.status_code == 200, tokens.text
        claims = verified_id_token(tokens.json()["id_token"], meta, issuer, nonce)
        assert claims["sub"] == ACCOUNT.username


def test_stop_ends_the_process(tmp_path: Path) -> None:
    running = start_oidc_provider(tmp_path, [CLIENT], [ACCOUNT])
    assert running.is_running()
    assert running.stop() is True
    assert not running.is_running()
    with pytest.raises(requests.ConnectionError):
        requests.get(running.discovery_url, timeout=2)
    assert "SIGTERM received, stopping" in running.log_tail()
