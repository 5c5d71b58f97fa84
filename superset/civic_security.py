"""Superset's security manager for the civic platform: who may see what, from the identity provider.

Loaded by superset_config.py (`CUSTOM_SECURITY_MANAGER`), in Superset's own virtualenv.
It does three things Flask-AppBuilder does not do by itself:

- **A read-only analyst role.** `Analyste` may open the dashboards and run the queries
  their charts make, on the civic warehouse's read-only database only: no chart or
  dashboard editing, no Explore, no SQL Lab, no other database. Superset's built-in
  roles do not fit: Gamma may create charts and dashboards, Public is for anonymous
  visitors. The role is rebuilt by `superset init` and its data access at each login
  (the warehouse database is imported after `superset init` has run).
- **Roles from the identity provider's groups, nothing else.** With single sign-on
  (AUTH_OAUTH, superset_config.py), a user's roles are the ones their `groups` claim
  maps to (AUTH_ROLES_MAPPING), re-synced at each login. A user whose groups map to no
  role is refused, and so is a login that would take over a local service account
  (CIVIC_LOCAL_ACCOUNTS: the refresh DAG's `admin`, which signs in to the REST API with
  its password; every account has a password hash in Flask-AppBuilder, so the names are
  what tells them apart). The claims come from the provider's userinfo
  endpoint, whose subject must be the ID token's (OpenID Connect Core 5.3.2), so any
  standard provider works: Keycloak in production, the test session's provider.
- **Logout ends the single sign-on session too** (RP-initiated logout): otherwise the
  next visit would be signed in again by the provider without a password.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.views import AuthOAuthView
from superset.security import SupersetSecurityManager
from werkzeug.wrappers import Response

logger = logging.getLogger(__name__)

ANALYST_ROLE = "Analyste"
# The realm's groups (deploy/keycloak/realm-civic.json) and the Superset roles they give.
# `operateurs` run the pipelines in Airflow: no Superset role.
GROUP_ROLES: dict[str, list[str]] = {
    "analystes": [ANALYST_ROLE],
    "gouvernance": [ANALYST_ROLE],
    "admins": ["Admin"],
}
# Superset's set for viewing dashboards anonymously (PUBLIC_ROLE_PERMISSIONS: the
# dashboard, its charts' queries, filters, permalinks), plus the dashboards' menu and
# list for a signed-in analyst. Nothing that writes a chart, a dashboard or a dataset.
ANALYST_PERMISSIONS = SupersetSecurityManager.PUBLIC_ROLE_PERMISSIONS | {
    ("menu_access", "Dashboards"),
    ("can_read", "Dataset"),
    ("can_userinfo", "UserOAuthModelView"),
    ("can_userinfo", "UserDBModelView"),
}
_ID_TOKEN_KEY = "civic_oidc_id_token"  # noqa: S105 - a session key, not a secret


class CivicAuthOAuthView(AuthOAuthView):
    """Flask-AppBuilder's OAuth views, with a logout that also ends the provider's session."""

    @expose("/logout/")
    def logout(self) -> Response:
        id_token = session.pop(_ID_TOKEN_KEY, None)
        provider = session.get("oauth_provider")
        response = super().logout()
        remote = self.appbuilder.sm.oauth_remotes.get(provider) if provider else None
        if remote is None or not id_token:
            return response
        if not remote.load_server_metadata().get("end_session_endpoint"):
            logger.warning("the identity provider has no end_session_endpoint: its session stays")
            return response
        return remote.logout_redirect(
            post_logout_redirect_uri=url_for("SupersetAuthView.login", _external=True),
            id_token_hint=id_token,
        )


class CivicSecurityManager(SupersetSecurityManager):
    """Superset's security manager plus the analyst role and group-based single sign-on."""

    authoauthview = CivicAuthOAuthView

    def sync_role_definitions(self) -> None:
        super().sync_role_definitions()
        self.set_role(ANALYST_ROLE, self._is_analyst_pvm, self._get_all_pvms())
        self.grant_civic_database(ANALYST_ROLE)

    def _is_analyst_pvm(self, pvm: Any) -> bool:
        return (pvm.permission.name, pvm.view_menu.name) in ANALYST_PERMISSIONS

    def grant_civic_database(self, role_name: str) -> None:
        """Give `role_name` the civic warehouse's read-only database, once it is imported.

        `database_access` rather than all_datasource_access: a database an admin adds
        later stays invisible to analysts.
        """
        # Imported here: Superset's models cannot be imported while it loads its configuration.
        from superset.models.core import Database

        from superset import db

        name = current_app.config.get("CIVIC_ANALYST_DATABASE")
        role = self.find_role(role_name)
        database = db.session.query(Database).filter_by(database_name=name).one_or_none()
        if role is None or database is None:
            return
        pvm = self.add_permission_view_menu("database_access", database.perm)
        if pvm not in role.permissions:
            role.permissions.append(pvm)
            db.session.commit()

    def set_oauth_session(self, provider: str, oauth_response: dict[str, Any]) -> None:
        """Keep the ID token for the logout's `id_token_hint`."""
        super().set_oauth_session(provider, oauth_response)
        session[_ID_TOKEN_KEY] = oauth_response.get("id_token")

    def get_oauth_user_info(self, provider: str, resp: dict[str, Any]) -> dict[str, Any]:
        """The user's name, e-mail and groups from the provider's userinfo endpoint."""
        claims = self.oauth_remotes[provider].userinfo(token=resp)
        id_token_claims = resp.get("userinfo") or {}
        if not claims.get("sub") or claims.get("sub") != id_token_claims.get("sub"):
            logger.warning("single sign-on refused: userinfo's subject is not the ID token's")
            return {}
        return {
            "username": claims.get("preferred_username") or claims["sub"],
            "first_name": claims.get("given_name", ""),
            "last_name": claims.get("family_name", ""),
            "email": claims.get("email", ""),
            "role_keys": list(claims.get("groups") or []),
        }

    def _oauth_calculate_user_roles(self, userinfo: dict[str, Any]) -> list[Any]:
        """Only the roles the groups map to: no registration role on top."""
        return list(self.get_roles_from_keys(userinfo.get("role_keys", [])))

    def auth_user_oauth(self, userinfo: dict[str, Any]) -> Any:
        username = userinfo.get("username")
        if not username:
            return None
        roles = self._oauth_calculate_user_roles(userinfo)
        if not roles:
            logger.warning(
                "single sign-on refused for %s: its groups %s give no Superset role",
                username,
                userinfo.get("role_keys"),
            )
            return None
        if username in current_app.config.get("CIVIC_LOCAL_ACCOUNTS", ()):
            logger.warning(
                "single sign-on refused for %s: that name is a local service account", username
            )
            return None
        if any(role.name == ANALYST_ROLE for role in roles):
            self.grant_civic_database(ANALYST_ROLE)
        return super().auth_user_oauth(userinfo)
