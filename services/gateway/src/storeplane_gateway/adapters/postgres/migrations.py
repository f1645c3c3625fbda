"""The gateway's tables in Postgres, as versioned migrations applied at start-up.

The migrations run with the mechanism every service shares (`storeplane_runtime.migrations`):
those not yet recorded in `gateway_schema_migrations` are applied in order, in one transaction,
under an advisory lock, so that replicas starting together do not race. New migrations are
appended with the next version; applied ones are never edited.

Version 1 is the schema exactly as the gateway made it before it had versions, idempotent
throughout (`IF NOT EXISTS`, and the columns older gateways added with `ADD COLUMN IF NOT
EXISTS`): on a database that a gateway made before, it changes nothing and is only recorded.
Later changes are plain statements in migrations of their own. The tables:

- `gateway_users`: accounts, with their role and their own store limit (if an admin set one);
- `gateway_sessions`: one row per login, so that its tokens can be revoked before they expire;
- `gateway_api_tokens`: API tokens by the SHA-256 hash of their secret;
- `gateway_store_slots`: one row per live store, counted against its owner's quota; its UNIQUE
  name makes two concurrent orders for one name end in one store; `reserved` from the order
  (`created_at`) until the publish is acknowledged, `confirmed` after;
- `gateway_login_failures`: failed logins per email, which slow down password guessing;
- `gateway_idempotency_keys`: the `Idempotency-Key` of each keyed command per caller and
  operation, with the answer to replay to a retry (`idempotency_keys.py`);
- `gateway_stream_tickets` (version 2): the single-use tickets that open an event stream, by the
  SHA-256 hash of their secret, with the principal they stand for and their expiry (`stream_tickets.py`).
"""

from __future__ import annotations

import asyncpg

from storeplane_runtime.migrations import Migration, migrate

VERSION_TABLE = "gateway_schema_migrations"
# The advisory lock the gateway took for its schema before it had versions: a gateway of each kind
# starting at once still takes turns.
_LOCK = "SELECT hashtext('storeplane-gateway-schema')"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "users, sessions, API tokens, store slots, login failures and idempotency keys",
        """
CREATE TABLE IF NOT EXISTS gateway_users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE gateway_users ADD COLUMN IF NOT EXISTS role text NOT NULL DEFAULT 'user'
    CHECK (role IN ('user', 'admin'));
ALTER TABLE gateway_users ADD COLUMN IF NOT EXISTS store_limit integer CHECK (store_limit >= 0);

CREATE TABLE IF NOT EXISTS gateway_sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES gateway_users (id) ON DELETE CASCADE,
    refresh_jti text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS gateway_sessions_active_by_user ON gateway_sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE IF NOT EXISTS gateway_api_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES gateway_users (id) ON DELETE CASCADE,
    name text NOT NULL,
    scopes text[] NOT NULL,
    prefix text NOT NULL,
    secret_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    UNIQUE (user_id, name)
);

CREATE TABLE IF NOT EXISTS gateway_store_slots (
    store_id uuid PRIMARY KEY,
    owner_id text NOT NULL,
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS gateway_store_slots_by_owner ON gateway_store_slots (owner_id);
-- Slots from before reservations existed were all published: they start confirmed.
ALTER TABLE gateway_store_slots ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'confirmed'
    CHECK (state IN ('reserved', 'confirmed'));

CREATE TABLE IF NOT EXISTS gateway_login_failures (
    email text PRIMARY KEY,
    failures integer NOT NULL,
    blocked_until timestamptz,
    last_failure_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS gateway_login_failures_by_age ON gateway_login_failures (last_failure_at);

CREATE TABLE IF NOT EXISTS gateway_idempotency_keys (
    principal_id text NOT NULL,
    operation text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    claim_id uuid NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'completed')),
    status_code integer,
    headers jsonb,
    body bytea,
    target text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal_id, operation, key)
);
CREATE INDEX IF NOT EXISTS gateway_idempotency_keys_by_age ON gateway_idempotency_keys (created_at);
""",
    ),
    Migration(
        2,
        "stream tickets",
        """
CREATE TABLE gateway_stream_tickets (
    ticket_hash text PRIMARY KEY,
    principal text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX gateway_stream_tickets_by_expiry ON gateway_stream_tickets (expires_at);
""",
    ),
)


async def ensure_schema(pool: asyncpg.Pool) -> list[int]:
    """Bring the gateway's tables up to date; the versions applied now."""
    lock_key = int(await pool.fetchval(_LOCK))
    return await migrate(pool, MIGRATIONS, table=VERSION_TABLE, lock_key=lock_key)
