"""The gateway's user accounts in its own Postgres table (asyncpg).

The table is created idempotently at start-up, under an advisory lock so that replicas
starting together do not race on `CREATE TABLE IF NOT EXISTS`. Emails are stored normalized
(lower case), and their uniqueness is the database's job, not a read-then-write check.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from storeplane_gateway.ports import DatabaseUnavailable, EmailTaken, StoredUser, User

SCHEMA = """
CREATE TABLE IF NOT EXISTS gateway_users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


@contextmanager
def _unavailable_when_down() -> Iterator[None]:
    """Connection trouble becomes DatabaseUnavailable (a 503), not an unhandled 500."""
    try:
        yield
    except (
        OSError,
        TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.OperatorInterventionError,
    ) as exc:
        raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc


async def ensure_schema(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('storeplane-gateway-schema'))")
        await conn.execute(SCHEMA)


class PostgresUsers:
    """`Users` on an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool, *, ping_timeout: float = 2.0) -> None:
        self._pool = pool
        self._ping_timeout = ping_timeout

    async def add(self, email: str, password_hash: str) -> User:
        user_id = str(uuid.uuid4())
        with _unavailable_when_down():
            try:
                await self._pool.execute(
                    "INSERT INTO gateway_users (id, email, password_hash) VALUES ($1, $2, $3)",
                    uuid.UUID(user_id),
                    email,
                    password_hash,
                )
            except asyncpg.UniqueViolationError as exc:
                raise EmailTaken(email) from exc
        return User(id=user_id, email=email)

    async def by_email(self, email: str) -> StoredUser | None:
        with _unavailable_when_down():
            row = await self._pool.fetchrow(
                "SELECT id, email, password_hash FROM gateway_users WHERE email = $1", email
            )
        if row is None:
            return None
        return StoredUser(id=str(row["id"]), email=row["email"], password_hash=row["password_hash"])

    async def replace_password_hash(self, user_id: str, password_hash: str) -> None:
        with _unavailable_when_down():
            await self._pool.execute(
                "UPDATE gateway_users SET password_hash = $2 WHERE id = $1", uuid.UUID(user_id), password_hash
            )

    async def ping(self) -> None:
        with _unavailable_when_down():
            async with asyncio.timeout(self._ping_timeout):
                await self._pool.fetchval("SELECT 1")
