"""The notifier's schema (endpoints, messages, attempts, and what it follows of the stream), applied
at start-up through `storeplane_runtime.migrations` and recorded in `notifier_migrations`.
New migrations are appended with the next version; applied ones are never edited."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storeplane_runtime.migrations import Migration
from storeplane_runtime.migrations import migrate as apply_migrations

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "webhook endpoints, messages and attempts",
        """
        CREATE TABLE webhook_endpoints (
            id                         text PRIMARY KEY,
            owner_id                   text NOT NULL,
            url                        text NOT NULL,
            events                     jsonb NOT NULL,
            description                text NOT NULL DEFAULT '',
            secret                     text NOT NULL,
            previous_secret            text,
            previous_secret_expires_at timestamptz,
            enabled                    boolean NOT NULL DEFAULT true,
            disabled_reason            text NOT NULL DEFAULT '',
            disabled_at                timestamptz,
            created_at                 timestamptz NOT NULL,
            updated_at                 timestamptz NOT NULL,
            last_success_at            timestamptz,
            failing_since              timestamptz,
            exhausted_messages         integer NOT NULL DEFAULT 0
        );
        CREATE INDEX webhook_endpoints_by_owner ON webhook_endpoints (owner_id, created_at);

        CREATE TABLE webhook_messages (
            id              text PRIMARY KEY,
            endpoint_id     text NOT NULL REFERENCES webhook_endpoints ON DELETE CASCADE,
            event_type      text NOT NULL,
            source_sequence bigint,
            body            text NOT NULL,
            trace_context   jsonb NOT NULL DEFAULT '{}'::jsonb,
            status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
            created_at      timestamptz NOT NULL,
            next_attempt_at timestamptz,
            lease_until     timestamptz,
            failed_attempts integer NOT NULL DEFAULT 0,
            UNIQUE (endpoint_id, source_sequence)
        );
        CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX webhook_messages_by_endpoint ON webhook_messages (endpoint_id, created_at DESC);

        CREATE TABLE webhook_attempts (
            id            bigserial PRIMARY KEY,
            message_id    text NOT NULL REFERENCES webhook_messages ON DELETE CASCADE,
            attempted_at  timestamptz NOT NULL,
            status_code   integer,
            error         text NOT NULL DEFAULT '',
            latency_ms    double precision NOT NULL,
            response_body text NOT NULL DEFAULT '',
            succeeded     boolean NOT NULL
        );
        CREATE INDEX webhook_attempts_by_message ON webhook_attempts (message_id, attempted_at);

        CREATE TABLE notifier_store_facts (
            store_id text PRIMARY KEY,
            facts    jsonb NOT NULL
        );

        CREATE TABLE notifier_positions (
            consumer      text PRIMARY KEY,
            last_sequence bigint NOT NULL
        );
        """,
    ),
    Migration(
        2,
        "keyset pages of an endpoint's deliveries",
        # The list's whole ORDER BY, so a page after a cursor is an index range read (no sort, no OFFSET).
        """
        CREATE INDEX webhook_messages_endpoint_created_id_idx
            ON webhook_messages (endpoint_id, created_at DESC, id DESC);
        DROP INDEX webhook_messages_by_endpoint;
        """,
    ),
)

VERSION_TABLE = "notifier_migrations"


async def migrate(pool: asyncpg.Pool[asyncpg.Record], migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the notifier's migrations not yet recorded; return their versions."""
    return await apply_migrations(pool, migrations, table=VERSION_TABLE)
