"""Superset 6.1's configuration for the civic platform (read through SUPERSET_CONFIG_PATH).

Superset loads this file over its own `superset/config.py` and keeps every
upper-case name. Whatever differs between machines comes from the environment
that `civic services up` writes to `.local/env` (include/services/superset_runtime.py
builds it): the metadata database, the secret key, the home folder. Nothing
secret has a default here, so a Superset started without that environment
refuses to start instead of running with a guessable key.

The server is meant for 127.0.0.1 behind no proxy: one process, in-process
caches, no Celery, no examples, no outbound network at start-up.

Sign-in: local accounts by default (`make demo`); single sign-on through an OpenID
Connect provider (Keycloak in docker-compose.airflow.yml) when CIVIC_OIDC_ISSUER is set,
with roles from the provider's groups (civic_security.py).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask_appbuilder.security.manager import AUTH_DB, AUTH_OAUTH

# Superset loads this file by path: its neighbour civic_security.py is importable only once
# this folder is on the path (deploy/superset/Dockerfile copies both to /app).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from civic_security import GROUP_ROLES, CivicSecurityManager


class SupersetConfigError(RuntimeError):
    """The environment lacks a setting Superset must not run without."""


def _required(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise SupersetConfigError(
            f"{name} is not set: it holds {what}. Start Superset with `civic services up "
            "--superset` (or `make up`), or export .local/env first: set -a; . .local/env; set +a"
        )
    return value


def _secret_key(min_length: int = 32) -> str:
    """Signs session cookies and CSRF tokens, and encrypts the saved database passwords:
    a default or short key would let anyone forge a session, so there is none (Superset
    itself refuses to start with its own placeholder key)."""
    key = _required("SUPERSET_SECRET_KEY", "the key that signs sessions and encrypts secrets")
    if len(key) < min_length:
        raise SupersetConfigError(
            f"SUPERSET_SECRET_KEY is too weak: use at least {min_length} random characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(42))'`)"
        )
    return key


def _metadata_uri() -> str:
    """Superset's own tables live in PostgreSQL: SQLite's single writer lock fails under
    the threaded web server, and the platform's PostgreSQL is there anyway."""
    uri = _required(
        "CIVIC_SUPERSET_METADATA_URI",
        "the SQLAlchemy URI of Superset's metadata database (postgresql+psycopg2://...)",
    )
    scheme = urlsplit(uri).scheme
    if not scheme.startswith("postgresql"):
        raise SupersetConfigError(
            f"CIVIC_SUPERSET_METADATA_URI must point at PostgreSQL, not '{scheme or 'no scheme'}': "
            "Superset's metadata is kept in the platform's PostgreSQL database `superset`"
        )
    return uri


def _home() -> Path:
    """Where Superset may write (uploads, its log file): under the project's .local/, never
    in ~/.superset or inside the virtualenv (Superset's default upload folder)."""
    return Path(_required("SUPERSET_HOME", "the folder Superset writes its files to"))


def _oauth_providers(issuer: str) -> list[dict[str, object]]:
    """One OpenID Connect provider, discovered from its issuer (Keycloak: the realm's URL,
    https://auth.example.org/realms/civic). The name `keycloak` is the last segment of the
    redirect URI the realm's `superset` client allows (/oauth-authorized/keycloak)."""
    return [
        {
            "name": "keycloak",
            "icon": "fa-key",
            "token_key": "access_token",
            "remote_app": {
                "client_id": _required("CIVIC_OIDC_CLIENT_ID", "Superset's client id"),
                "client_secret": _required(
                    "CIVIC_OIDC_CLIENT_SECRET", "Superset's client secret at the provider"
                ),
                "server_metadata_url": f"{issuer.rstrip('/')}/.well-known/openid-configuration",
                # PKCE as the realm's client requires it (S256); `groups` carries the roles.
                "client_kwargs": {
                    "scope": "openid profile email groups",
                    "code_challenge_method": "S256",
                },
            },
        }
    ]


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = _metadata_uri()
# A connection that died while PostgreSQL restarted (`make down` / `make up`) is replaced
# instead of failing the next request.
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
UPLOAD_FOLDER = f"{_home() / 'uploads'}/"

# -- Language: the analysts are French; English stays one click away -----------------------
BABEL_DEFAULT_LOCALE = "fr"
LANGUAGES = {
    "fr": {"flag": "fr", "name": "Français"},
    "en": {"flag": "us", "name": "English"},
}
# d3's fr-FR locale: 12 345,6 and 3 mars 2026 in every chart, whatever the browser says.
D3_FORMAT = {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0€"]}
D3_TIME_FORMAT = {
    "dateTime": "%A %e %B %Y à %X",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["AM", "PM"],
    "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
    "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
    "months": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "shortMonths": [
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ],
}
CURRENCIES = ["EUR"]
APP_NAME = "Plateforme civique"

# -- Caches: in this process, nothing to run beside it --------------------------------------
# Metadata (dashboards, charts' forms) may be kept a few minutes. Chart *data* is never
# cached: a dashboard must show a release as soon as the refresh DAG has run, and Superset
# 6.1's cache invalidation endpoint clears its metadata cache, not its data cache. The
# tables behind the charts are small aggregates, so querying them each time costs little.
CACHE_DEFAULT_TIMEOUT = int(timedelta(minutes=5).total_seconds())
CACHE_CONFIG = {
    "CACHE_TYPE": "SimpleCache",
    "CACHE_DEFAULT_TIMEOUT": CACHE_DEFAULT_TIMEOUT,
    "CACHE_KEY_PREFIX": "civic_superset_",
}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# Results of asynchronous SQL Lab queries would need Celery and a shared store: none here.
RESULTS_BACKEND = None
# Login rate limits are counted in this process (and flask-limiter stops warning about it).
RATELIMIT_STORAGE_URI = "memory://"

# -- Who signs in, with which role (civic_security.py) ---------------------------------------
CUSTOM_SECURITY_MANAGER = CivicSecurityManager
# The analysts' role reads this database only (the warehouse through its read-only role).
CIVIC_ANALYST_DATABASE = _required(
    "CIVIC_SUPERSET_ANALYST_DATABASE", "the name of the warehouse's read-only database in Superset"
)
_OIDC_ISSUER = os.environ.get("CIVIC_OIDC_ISSUER", "").strip()
# No anonymous access.
PUBLIC_ROLE_LIKE = None
if _OIDC_ISSUER:
    AUTH_TYPE = AUTH_OAUTH
    OAUTH_PROVIDERS = _oauth_providers(_OIDC_ISSUER)
    # An account is made at a person's first sign-in, with the roles their groups give
    # (none: refused), and its roles follow the groups at every sign-in after.
    AUTH_USER_REGISTRATION = True
    AUTH_ROLES_MAPPING = GROUP_ROLES
    AUTH_ROLES_SYNC_AT_LOGIN = True
    # People sign in through the provider; the platform's own service account (the refresh
    # DAG's `admin`, superset_runtime.ADMIN_USER) keeps its password login to the REST API,
    # and no provider account may take its name.
    AUTH_API_LOGIN_ALLOW_MULTIPLE_PROVIDERS = True
    CIVIC_LOCAL_ACCOUNTS = ("admin",)
else:
    AUTH_TYPE = AUTH_DB
    # No self-registration: accounts are created by an admin.
    AUTH_USER_REGISTRATION = False

# -- Safe defaults for a loopback server ----------------------------------------------------
WTF_CSRF_ENABLED = True
# Refuse SQLite and other file-backed "databases" as data sources: data comes from the
# warehouse through the read-only role only.
PREVENT_UNSAFE_DB_CONNECTIONS = True
PREVENT_UNSAFE_DEFAULT_URLS_ON_DATASET = True
# Cookies are per host, not per port: Airflow on 127.0.0.1:8080 also uses `session`, and
# sharing the name would log the user out of one each time they log into the other.
SESSION_COOKIE_NAME = "civic_superset_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Behind the compose stack's HTTPS proxy (CIVIC_SUPERSET_BEHIND_PROXY=1), and only there:
# - the session cookie is Secure (on plain-HTTP loopback it would never be sent back);
# - X-Forwarded-* headers are trusted (they make the sign-in redirect URI
#   https://superset.<domain>/...; with no proxy in front any client could spoof them).
_BEHIND_HTTPS_PROXY = os.environ.get("CIVIC_SUPERSET_BEHIND_PROXY", "") == "1"
SESSION_COOKIE_SECURE = _BEHIND_HTTPS_PROXY
PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
ENABLE_PROXY_FIX = _BEHIND_HTTPS_PROXY
SHOW_STACKTRACE = False
# The UI is served from this origin only; no other site's page needs to call the API.
ENABLE_CORS = False
# Superset's default policy, minus every third-party host: the analysts' pages load nothing
# from outside this server (Superset's menu would otherwise fetch a usage pixel from
# scarf.sh, and map tiles and fonts from public CDNs, unreachable on these machines anyway).
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": _BEHIND_HTTPS_PROXY,
}

# Superset 6.1 samples string columns on every dataset refresh to guess datetime formats,
# and logs a spurious ERROR for tables outside the default schema; our date columns are
# typed (or month labels used as categories), so there is nothing to guess.
DATASET_AUTO_DETECT_DATETIME_FORMATS = False
