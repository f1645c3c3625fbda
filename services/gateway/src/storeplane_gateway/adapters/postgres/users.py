"""The gateway's user accounts in its own Postgres table (asyncpg).

Emails are stored normalized (lower case), and their uniqueness is the database's job, not a
read-then-write check. The table is made by `migrations.py`.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from storeplane_gateway.adapters.postgres.pool import unavailable_when_down, uuid_or_none
from storeplane_gateway.domain.errors import EmailTaken
from storeplane_gateway.domain.users import Role, StoredUser, User

_COLUMNS = "id, email, password_hash, role, store_limit"


def _stored_user(row: asyncpg.Record) -> StoredUser:
    return StoredUser(
        id=str(row["id"]),
        email=row["email"],
        password_hash=row["password_hash"],
        role=row["role"],
        store_limit=row["store_limit"],
    )


class PostgresUsers:
    """`Users` on an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool, *, ping_timeout: float = 2.0) -> None:
        self._pool = pool
        self._ping_timeout = ping_timeout

    async def add(self, email: str, password_hash: str, *, role: Role = "user") -> User:
        user_id = str(uuid.uuid4())
        with unavailable_when_down():
            try:
                await self._pool.execute(
                    "INSERT INTO gateway_users (id, email, password_hash, role) VALUES ($1, $2, $3, $4)",
                    uuid.UUID(user_id),
                    email,
                    password_hash,
                    role,
                )
            except asyncpg.UniqueViolationError as exc:
                raise EmailTaken(email) from exc
        return User(id=user_id, email=email, role=role)

    async def by_email(self, email: str) -> StoredUser | None:
        with unavailable_when_down():
            row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM gateway_users WHERE email = $1", email)
        return None if row is None else _stored_user(row)

    async def by_id(self, user_id: str) -> StoredUser | None:
        if (parsed := uuid_or_none(user_id)) is None:
            return None
        with unavailable_when_down():
            row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM gateway_users WHERE id = $1", parsed)
        return None if row is None else _stored_user(row)

    async def replace_password_hash(self, user_id: str, password_hash: str) -> None:
        with unavailable_when_down():
            await self._pool.execute(
                "UPDATE gateway_users SET password_hash = $2 WHERE id = $1", uuid.UUID(user_id), password_hash
            )

    async def set_role(self, user_id: str, role: Role) -> None:
        with unavailable_when_down():
            await self._pool.execute("UPDATE gateway_users SET role = $2 WHERE id = $1", uuid.UUID(user_id), role)

    async def with_role(self, role: Role) -> list[StoredUser]:
        with unavailable_when_down():
            rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM gateway_users WHERE role = $1 ORDER BY email", role)
        return [_stored_user(row) for row in rows]

    async def set_store_limit(self, user_id: str, limit: int | None) -> StoredUser | None:
        if (parsed := uuid_or_none(user_id)) is None:
            return None
        with unavailable_when_down():
            row = await self._pool.fetchrow(
                f"UPDATE gateway_users SET store_limit = $2 WHERE id = $1 RETURNING {_COLUMNS}", parsed, limit
            )
        return None if row is None else _stored_user(row)

    async def ping(self) -> None:
        with unavailable_when_down():
            async with asyncio.timeout(self._ping_timeout):
                await self._pool.fetchval("SELECT 1")
