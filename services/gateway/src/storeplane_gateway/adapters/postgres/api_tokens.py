"""API tokens in Postgres (asyncpg), by the SHA-256 hash of their secret.

The secret itself is never stored: it is shown once when the token is made. Authenticating
with a token is one UPDATE that marks it used and returns its owner, scopes and role.
"""

from __future__ import annotations

import uuid

import asyncpg

from storeplane_gateway.adapters.postgres.pool import unavailable_when_down, uuid_or_none
from storeplane_gateway.domain.api_tokens import ApiToken
from storeplane_gateway.domain.errors import TokenNameTaken
from storeplane_gateway.domain.principals import Principal

_COLUMNS = "id, user_id, name, scopes, prefix, created_at, last_used_at"


def _api_token(row: asyncpg.Record) -> ApiToken:
    return ApiToken(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        name=row["name"],
        scopes=tuple(row["scopes"]),
        prefix=row["prefix"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
    )


class PostgresApiTokens:
    """`ApiTokens` on an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, token: ApiToken, secret_hash: str) -> None:
        with unavailable_when_down():
            try:
                await self._pool.execute(
                    """
                    INSERT INTO gateway_api_tokens (id, user_id, name, scopes, prefix, secret_hash, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """,
                    uuid.UUID(token.id),
                    uuid.UUID(token.user_id),
                    token.name,
                    list(token.scopes),
                    token.prefix,
                    secret_hash,
                    token.created_at,
                )
            except asyncpg.UniqueViolationError as exc:
                raise TokenNameTaken(token.name) from exc

    async def of_user(self, user_id: str) -> list[ApiToken]:
        if (uid := uuid_or_none(user_id)) is None:
            return []
        with unavailable_when_down():
            rows = await self._pool.fetch(
                f"SELECT {_COLUMNS} FROM gateway_api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id",
                uid,
            )
        return [_api_token(row) for row in rows]

    async def revoke(self, user_id: str, token_id: str) -> bool:
        uid, tid = uuid_or_none(user_id), uuid_or_none(token_id)
        if uid is None or tid is None:
            return False
        with unavailable_when_down():
            deleted = await self._pool.fetchval(
                "DELETE FROM gateway_api_tokens WHERE id = $1 AND user_id = $2 RETURNING true", tid, uid
            )
        return bool(deleted)

    async def authenticate(self, secret_hash: str) -> Principal | None:
        with unavailable_when_down():
            row = await self._pool.fetchrow(
                """
                UPDATE gateway_api_tokens AS t SET last_used_at = now()
                FROM gateway_users AS u
                WHERE t.secret_hash = $1 AND u.id = t.user_id
                RETURNING t.id, t.user_id, t.scopes, u.email, u.role
                """,
                secret_hash,
            )
        if row is None:
            return None
        return Principal(
            id=str(row["user_id"]),
            email=row["email"],
            role=row["role"],
            scopes=frozenset(row["scopes"]),
            api_token_id=str(row["id"]),
        )
