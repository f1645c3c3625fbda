"""One versioned migration mechanism for every service's Postgres schema.

A service declares its schema as a tuple of `Migration`s and calls `migrate` at start-up: the
migrations not yet recorded in the service's own version table are applied in version order,
in one transaction, and recorded there. Each migration runs once. Instances starting at the
same time are safe: they take the same advisory lock, so one applies the pending migrations
and the others find them done. Each service names its own version table (and lock), so several
services can share one database without their histories clashing. New migrations are appended
with the next version; applied ones are never edited.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the runner only uses the pool it is given; asyncpg is the caller's dependency
    import asyncpg

_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclasses.dataclass(frozen=True)
class Migration:
    """One schema change, identified by its version."""

    version: int
    name: str
    sql: str


def lock_key_for(table: str) -> int:
    """The advisory lock a version table is guarded by when its service names none."""
    return zlib.crc32(f"storeplane-migrations:{table}".encode())


def _checked(migrations: Sequence[Migration], table: str) -> list[Migration]:
    """The migrations in version order, after refusing a bad table name or a repeated version."""
    if not _TABLE_NAME.fullmatch(table):
        raise ValueError(f"not a plain lower-case table name: {table!r}")
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"a migration version is declared twice: {sorted(versions)}")
    return sorted(migrations, key=lambda m: m.version)


async def migrate(
    pool: asyncpg.Pool[asyncpg.Record],
    migrations: Sequence[Migration],
    *,
    table: str,
    lock_key: int | None = None,
) -> list[int]:
    """Apply the migrations not yet recorded in `table`, in one transaction; return their versions.

    `lock_key` names the advisory lock that serialises concurrent starts; by default it is
    derived from `table`, so services with different version tables never wait for each other.
    """
    ordered = _checked(migrations, table)
    lock = lock_key_for(table) if lock_key is None else lock_key
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", lock)
        await connection.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {table} (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        # `table` is interpolated only after `_checked` has accepted it as a plain identifier.
        done = {r["version"] for r in await connection.fetch(f"SELECT version FROM {table}")}
        applied = []
        for migration in ordered:
            if migration.version in done:
                continue
            await connection.execute(migration.sql)
            record = f"INSERT INTO {table} (version, name) VALUES ($1, $2)"
            await connection.execute(record, migration.version, migration.name)
            applied.append(migration.version)
        return applied
