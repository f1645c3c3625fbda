"""Who is calling: Litestar's JWT authentication, extended to API tokens, and the tokens the gateway signs.

Two kinds of bearer credential reach the API as `Authorization: Bearer ...`:

- A login session's access token: a JWT signed with `jwt_secret` (HS256), issued by
  `storeplane-gateway`, carrying the user id (`sub`), email, role, the session id and
  `typ: access`; it expires after `token_ttl_seconds`. Every request also checks that its session
  is still active (one indexed read), so logout and logout-all take effect at once. The session's
  refresh token (`typ: refresh`, `refresh_token_ttl_seconds`) is accepted only by
  `POST /api/v1/auth/refresh`, once: each use hands out the next one.
- An API token `sp_<random>` for integrations: opaque, stored only as its SHA-256 hash, limited
  to the scopes it was created with, never an admin.

Guards (`require_scope`, `require_session`, `require_admin`) check what the credential may do,
server-side, per route.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token
from litestar.types import Guard

from storeplane_contracts.events import new_id
from storeplane_gateway.bodies import TokenBody, UserBody
from storeplane_gateway.errors import ApiError
from storeplane_gateway.ports import ROLES, SCOPES, Principal, Session, User, adapters_of
from storeplane_gateway.settings import GatewaySettings

TOKEN_ISSUER = "storeplane-gateway"
# The OpenAPI security scheme every authenticated route names.
SECURITY_SCHEME = "BearerToken"
TOKEN_TYPE = "Bearer"
ACCESS = "access"
REFRESH = "refresh"
API_TOKEN_PREFIX = "sp_"
# The first characters of an API token, kept in the clear so that its owner can recognise it.
API_TOKEN_SHOWN_PREFIX = 10
LOGIN_HINT = "log in at POST /api/v1/auth/login"


def new_api_token() -> str:
    """A new API token's secret: `sp_` and 256 random bits, URL-safe."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(secret: str) -> str:
    """How an API token is stored and looked up: a SHA-256 hex digest (the secret has 256 random bits)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


async def principal_from_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The caller of a verified access token, if the token is well formed and its session still active."""
    extras = token.extras
    email, role, session_id = extras.get("email"), extras.get("role"), extras.get("sid")
    if extras.get("typ") != ACCESS or role not in ROLES:
        return None
    if not isinstance(email, str) or not email or not isinstance(session_id, str) or not session_id:
        return None
    if not await adapters_of(connection.app.state).sessions.is_active(session_id, token.sub):
        return None
    return Principal(id=token.sub, email=email, role=role, scopes=frozenset(SCOPES), session_id=session_id)


class BearerAuthentication(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, which also accepts API tokens (`Bearer sp_...`)."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get(self.auth_header)
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


class IssuedTokens(NamedTuple):
    """A session's tokens for the client, and the session record that makes them valid."""

    body: TokenBody
    session: Session


class RefreshClaims(NamedTuple):
    """What a verified refresh token says."""

    user_id: str
    session_id: str
    jti: str


class TokenIssuer:
    """Signs a session's access and refresh tokens, and reads refresh tokens back."""

    def __init__(self, jwt_auth: JWTAuth[Principal, Token], *, ttl_seconds: int, refresh_ttl_seconds: int) -> None:
        self._jwt_auth = jwt_auth
        self._ttl_seconds = ttl_seconds
        self._refresh_ttl_seconds = refresh_ttl_seconds

    def issue(self, user: User, session_id: str | None = None) -> IssuedTokens:
        """Tokens for a new session, or the next ones of session `session_id` (refresh)."""
        session_id = session_id or new_id()
        refresh_jti = new_id()
        access = self._jwt_auth.create_token(
            identifier=user.id,
            token_expiration=timedelta(seconds=self._ttl_seconds),
            token_issuer=TOKEN_ISSUER,
            token_unique_jwt_id=new_id(),
            token_extras={"typ": ACCESS, "email": user.email, "role": user.role, "sid": session_id},
        )
        refresh = self._jwt_auth.create_token(
            identifier=user.id,
            token_expiration=timedelta(seconds=self._refresh_ttl_seconds),
            token_issuer=TOKEN_ISSUER,
            token_unique_jwt_id=refresh_jti,
            token_extras={"typ": REFRESH, "sid": session_id},
        )
        body = TokenBody(
            token=access,
            token_type=TOKEN_TYPE,
            expires_in=self._ttl_seconds,
            refresh_token=refresh,
            refresh_expires_in=self._refresh_ttl_seconds,
            user=UserBody(id=user.id, email=user.email, role=user.role),
        )
        expires_at = datetime.now(UTC) + timedelta(seconds=self._refresh_ttl_seconds)
        return IssuedTokens(body, Session(session_id, user.id, refresh_jti, expires_at))

    def read_refresh(self, encoded: str) -> RefreshClaims:
        """The claims of a valid refresh token; anything else is a 401 `invalid_refresh_token`."""
        refused = ApiError(
            401, "invalid_refresh_token", f"the refresh token is invalid or expired; {LOGIN_HINT}", _BEARER
        )
        try:
            token = Token.decode(
                encoded,
                secret=self._jwt_auth.token_secret,
                algorithm=self._jwt_auth.algorithm,
                issuer=[TOKEN_ISSUER],
                require_claims=["exp", "sub", "jti"],
            )
        except NotAuthorizedException:
            raise refused from None
        session_id = token.extras.get("sid")
        if token.extras.get("typ") != REFRESH or not isinstance(session_id, str) or not isinstance(token.jti, str):
            raise refused
        return RefreshClaims(user_id=token.sub, session_id=session_id, jti=token.jti)


_BEARER = {"WWW-Authenticate": "Bearer"}


def caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated caller (the authentication middleware ran before any guard)."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("Not authenticated")
    return user


def require_scope(scope: str) -> Guard:
    """A guard: the credential must carry `scope` (login sessions carry all)."""

    def has_scope(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if scope not in caller(connection).scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                f"this API token lacks the `{scope}` scope; create a token with it at POST /api/v1/tokens",
            )

    has_scope.__name__ = f"require_{scope.replace(':', '_')}"
    return has_scope


def require_session(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: a login session's token, not an API token."""
    if not caller(connection).session_id:
        raise ApiError(403, "session_required", f"API tokens cannot do this; use a login session's token: {LOGIN_HINT}")


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """A guard: an admin's login session."""
    require_session(connection, handler)
    if not caller(connection).is_admin:
        raise ApiError(403, "admin_only", "only admins may do this")
