"""The read models' schema, applied in order at start-up and recorded in `schema_migrations`.

The mechanism (ordering, the version table, the advisory lock that makes instances starting
together safe) is the shared one in `storeplane_runtime.migrations`; this module holds only
the status service's list. New migrations are appended with the next version; applied ones
are never edited.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storeplane_runtime.migrations import Migration
from storeplane_runtime.migrations import migrate as apply_migrations

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
    Migration(
        3,
        "keyset pages: the indexes of the store lists and the timelines",
        # Each list's ORDER BY, whole, so a page after a cursor is an index range read (no sort, no OFFSET).
        """
        CREATE INDEX stores_owner_created_id_idx ON stores (owner_id, created_at DESC, id DESC);
        CREATE INDEX stores_created_id_idx ON stores (created_at DESC, id DESC);
        DROP INDEX stores_by_owner;
        ALTER INDEX store_events_by_store RENAME TO store_events_store_sequence_idx;
        """,
    ),
)

# The version table and lock the status service has always used, kept so existing databases
# are recognised as up to date.
VERSION_TABLE = "schema_migrations"
_LOCK_KEY = 0x5354_4154  # "STAT"


async def migrate(pool: asyncpg.Pool[asyncpg.Record], migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the read models' migrations not yet recorded; return their versions."""
    return await apply_migrations(pool, migrations, table=VERSION_TABLE, lock_key=_LOCK_KEY)
