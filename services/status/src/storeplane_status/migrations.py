"""The read models' schema, applied in order at start-up and recorded in `schema_migrations`.

Each migration runs once. Starting several instances at the same time is safe: they take
the same advisory lock, so one applies the pending migrations and the others find them done.
New migrations are appended with the next version; applied ones are never edited.
"""

from __future__ import annotations

import dataclasses

import asyncpg


@dataclasses.dataclass(frozen=True)
class Migration:
    """One schema change, identified by its version."""

    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "read models and projection tracking",
        """
        CREATE TABLE stores (
            id            text PRIMARY KEY,
            owner_id      text NOT NULL,
            name          text NOT NULL,
            engine        text NOT NULL,
            namespace     text NOT NULL,
            status        text NOT NULL CHECK (status IN
                              ('requested', 'provisioning', 'ready', 'failed', 'deleting', 'deleted')),
            urls          jsonb NOT NULL DEFAULT '{}'::jsonb,
            error         jsonb,
            created_at    timestamptz NOT NULL,
            updated_at    timestamptz NOT NULL,
            last_sequence bigint NOT NULL
        );
        CREATE INDEX stores_by_owner ON stores (owner_id, created_at DESC);
        CREATE INDEX stores_live_by_name ON stores (name) WHERE status <> 'deleted';

        CREATE TABLE store_events (
            event_id    text PRIMARY KEY,
            store_id    text NOT NULL,
            sequence    bigint NOT NULL,
            type        text NOT NULL,
            occurred_at timestamptz NOT NULL,
            data        jsonb NOT NULL
        );
        CREATE INDEX store_events_by_store ON store_events (store_id, sequence);

        CREATE TABLE projection_tracking (
            consumer      text PRIMARY KEY,
            last_sequence bigint NOT NULL,
            updated_at    timestamptz NOT NULL DEFAULT now()
        );
        """,
    ),
    Migration(
        2,
        "stores can be degraded (drift found by the provisioner)",
        """
        ALTER TABLE stores DROP CONSTRAINT stores_status_check;
        ALTER TABLE stores ADD CONSTRAINT stores_status_check CHECK (status IN
            ('requested', 'provisioning', 'ready', 'degraded', 'failed', 'deleting', 'deleted'));
        """,
    ),
)

# Any constant shared by the instances; it names this schema's migration lock.
_LOCK_KEY = 0x5354_4154  # "STAT"


async def migrate(pool: asyncpg.Pool[asyncpg.Record], migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply the migrations not yet recorded, in one transaction; return their versions."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        done = {r["version"] for r in await connection.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied.append(migration.version)
        return applied
