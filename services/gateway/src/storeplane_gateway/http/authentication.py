"""Who is calling: Litestar's JWT authentication, extended to API tokens.

Two kinds of bearer credential reach the API as `Authorization: Bearer ...`:

- A login session's access token: a JWT signed with `jwt_secret` (HS256), issued by
  `storeplane-gateway`, carrying the user id (`sub`), email, role, the session id and
  `typ: access`; it expires after `token_ttl_seconds`. Every request also checks that its session
  is still active and reads its account's role (one indexed read), so logout, logout-all and
  `admin revoke` take effect at once, and the token's role claim authorises nothing. The session's
  refresh token (`typ: refresh`, `refresh_token_ttl_seconds`) is accepted only by
  `POST /api/v1/auth/refresh`, once: each use hands out the next one
  (`areas/accounts/session_tokens.py` signs both).
- An API token `sp_<random>` for integrations: opaque, stored only as its SHA-256 hash, limited
  to the scopes it was created with, never an admin.

- A stream ticket (`?ticket=`, for browsers' `EventSource`), on the stream routes only: single use,
  for a minute, standing for the credential that asked for it (`stream_tickets.py` hides it from logs).

What a credential may do on a route is checked by the guards of `areas/accounts/guards.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from storeplane_gateway.domain.api_tokens import API_TOKEN_PREFIX, hash_api_token
from storeplane_gateway.domain.errors import InvalidStreamTicket
from storeplane_gateway.domain.principals import SCOPES, Principal
from storeplane_gateway.domain.streams import hash_ticket
from storeplane_gateway.domain.users import ROLES
from storeplane_gateway.http.app_state import adapters_of
from storeplane_gateway.http.stream_tickets import TICKET_AUTH, ticket_of
from storeplane_gateway.settings import GatewaySettings

TOKEN_ISSUER = "storeplane-gateway"
# The OpenAPI security scheme every authenticated route names.
SECURITY_SCHEME = "BearerToken"
ACCESS = "access"
REFRESH = "refresh"
LOGIN_HINT = "log in at POST /api/v1/auth/login"


async def principal_from_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The caller of a verified access token, if the token is well formed and its session still active.

    The role is the account's, read with the session: a token's `role` claim only tells clients what
    they logged in as, so a re-signed claim or an admin revoked since the login grants nothing."""
    extras = token.extras
    email, claimed, session_id = extras.get("email"), extras.get("role"), extras.get("sid")
    if extras.get("typ") != ACCESS or claimed not in ROLES:
        return None
    if not isinstance(email, str) or not email or not isinstance(session_id, str) or not session_id:
        return None
    role = await adapters_of(connection.app.state).sessions.active_role(session_id, token.sub)
    if role is None:
        return None
    return Principal(id=token.sub, email=email, role=role, scopes=frozenset(SCOPES), session_id=session_id)


class BearerAuthentication(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, which also accepts API tokens (`Bearer sp_...`)."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get(self.auth_header)
        if not header and connection.route_handler.opt.get(TICKET_AUTH):
            ticket = ticket_of(connection.scope)
            if ticket is not None:
                return AuthenticationResult(user=await _ticket_holder(connection, ticket), auth=None)
        if not header:
            raise NotAuthorizedException("No bearer token in the Authorization header")
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise NotAuthorizedException("Not a bearer token")
        if credential.startswith(API_TOKEN_PREFIX):
            tokens = adapters_of(connection.app.state).api_tokens
            principal = await tokens.authenticate(hash_api_token(credential))
            if principal is None:
                raise NotAuthorizedException("Unknown API token")
            return AuthenticationResult(user=principal, auth=None)
        return await self.authenticate_token(encoded_token=credential, connection=connection)


async def _ticket_holder(connection: ASGIConnection[Any, Any, Any, Any], ticket: str) -> Principal:
    """Who the ticket stands for, using it up; a session that ended meanwhile takes its tickets along."""
    adapters = adapters_of(connection.app.state)
    principal = await adapters.stream_tickets.claim(hash_ticket(ticket))
    if principal is None:
        raise InvalidStreamTicket()
    if not principal.session_id:
        return principal
    # As for a bearer token: the session must still be live, and the role is the account's as of now.
    role = await adapters.sessions.active_role(principal.session_id, principal.id)
    if role is None:
        raise InvalidStreamTicket()
    return msgspec.structs.replace(principal, role=role)


def make_jwt_auth(settings: GatewaySettings) -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        token_secret=settings.jwt_secret,
        retrieve_user_handler=principal_from_token,
        default_token_expiration=timedelta(seconds=settings.token_ttl_seconds),
        accepted_issuers=[TOKEN_ISSUER],
        require_claims=["exp", "sub", "jti"],
        authentication_middleware_class=BearerAuthentication,
        openapi_security_scheme_name=SECURITY_SCHEME,
        description=(
            "An access token (JWT) from POST /api/v1/auth/register, /login or /refresh, "
            "or an API token (sp_...) from POST /api/v1/tokens."
        ),
    )


def caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated caller (the authentication middleware ran before any guard)."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("Not authenticated")
    return user
