"""The tokens of a login session: an access token and a refresh token, both JWTs the gateway signs.

`http/authentication.py` accepts the access token on every route; the refresh token is read back
only by `POST /api/v1/auth/refresh`, which rotates it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import JWTAuth, Token

from storeplane_contracts.events import new_id
from storeplane_gateway.areas.accounts.schemas import TokenBody, UserBody
from storeplane_gateway.domain.errors import RefreshTokenUnreadable
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.domain.sessions import Session
from storeplane_gateway.domain.users import User
from storeplane_gateway.http.authentication import ACCESS, REFRESH, TOKEN_ISSUER

TOKEN_TYPE = "Bearer"


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
        """The claims of a valid refresh token; anything else is RefreshTokenUnreadable."""
        try:
            token = Token.decode(
                encoded,
                secret=self._jwt_auth.token_secret,
                algorithm=self._jwt_auth.algorithm,
                issuer=[TOKEN_ISSUER],
                require_claims=["exp", "sub", "jti"],
            )
        except NotAuthorizedException:
            raise RefreshTokenUnreadable() from None
        session_id = token.extras.get("sid")
        if token.extras.get("typ") != REFRESH or not isinstance(session_id, str) or not isinstance(token.jti, str):
            raise RefreshTokenUnreadable()
        return RefreshClaims(user_id=token.sub, session_id=session_id, jti=token.jti)
