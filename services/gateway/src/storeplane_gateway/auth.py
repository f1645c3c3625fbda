"""Who is calling: Litestar's JWT authentication, set up for the gateway, and the tokens it signs.

Tokens are stateless: the subject is the user id and the token carries the email, so an
authenticated request needs no database read. They are signed with `jwt_secret` (HS256),
issued by `storeplane-gateway`, and expire after `token_ttl_seconds`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from storeplane_gateway.bodies import TokenBody, UserBody
from storeplane_gateway.ports import User
from storeplane_gateway.settings import GatewaySettings

TOKEN_ISSUER = "storeplane-gateway"
TOKEN_TYPE = "Bearer"


async def user_from_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The authenticated user is whatever the (verified) token says; no email claim, no user."""
    email = token.extras.get("email")
    if not isinstance(email, str) or not email:
        return None
    return User(id=token.sub, email=email)


def make_jwt_auth(settings: GatewaySettings) -> JWTAuth[User, Token]:
    return JWTAuth[User, Token](
        token_secret=settings.jwt_secret,
        retrieve_user_handler=user_from_token,
        default_token_expiration=timedelta(seconds=settings.token_ttl_seconds),
        accepted_issuers=[TOKEN_ISSUER],
        require_claims=["exp", "sub"],
        description="A JWT from POST /api/v1/auth/register or /api/v1/auth/login.",
    )


class TokenIssuer:
    """Signs access tokens for users."""

    def __init__(self, jwt_auth: JWTAuth[User, Token], *, ttl_seconds: int) -> None:
        self._jwt_auth = jwt_auth
        self._ttl_seconds = ttl_seconds

    def issue(self, user: User) -> TokenBody:
        token = self._jwt_auth.create_token(
            identifier=user.id,
            token_expiration=timedelta(seconds=self._ttl_seconds),
            token_issuer=TOKEN_ISSUER,
            token_extras={"email": user.email},
        )
        return TokenBody(
            token=token,
            token_type=TOKEN_TYPE,
            expires_in=self._ttl_seconds,
            user=UserBody(id=user.id, email=user.email),
        )
