"""The `webhook_endpoints` table: an owner's endpoints, always read and written scoped to that owner."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from storeplane_contracts.webhooks import EndpointView
from storeplane_notifier.storage.pool import Connection, Pool

_VIEW_COLUMNS = (
    "id, owner_id, url, events, description, enabled, disabled_reason, disabled_at, created_at, updated_at, "
    "last_success_at, failing_since, exhausted_messages, previous_secret_expires_at"
)
# Set by an owner through UpdateEndpoint.
EDITABLE = ("url", "events", "description", "enabled")


class CapReached(Exception):
    """The owner already has as many endpoints as allowed."""


@dataclasses.dataclass(frozen=True)
class SigningEndpoint:
    """What an attempt needs of its endpoint."""

    id: str
    owner_id: str
    url: str
    enabled: bool
    secrets: list[str]  # the current one first, then the previous one while it is still valid


def new_endpoint_id() -> str:
    return f"ep_{uuid.uuid4().hex}"


def view_of(record: asyncpg.Record) -> EndpointView:
    values = {name: record[name] for name in EndpointView.__struct_fields__}
    values["events"] = list(record["events"])
    return EndpointView(**values)


async def create(
    pool: Pool, *, owner_id: str, url: str, events: list[str], description: str, secret: str, cap: int, at: datetime
) -> EndpointView:
    """Insert the endpoint unless the owner is at the cap (checked under a per-owner lock)."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('webhooks:' || $1))", owner_id)
        count = await connection.fetchval("SELECT count(*) FROM webhook_endpoints WHERE owner_id = $1", owner_id)
        if count >= cap:
            raise CapReached
        record = await connection.fetchrow(
            f"""
            INSERT INTO webhook_endpoints (id, owner_id, url, events, description, secret, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {_VIEW_COLUMNS}
            """,
            new_endpoint_id(),
            owner_id,
            url,
            events,
            description,
            secret,
            at,
        )
        assert record is not None
        return view_of(record)


async def list_owned(pool: Pool, owner_id: str) -> list[EndpointView]:
    rows = await pool.fetch(
        f"SELECT {_VIEW_COLUMNS} FROM webhook_endpoints WHERE owner_id = $1 ORDER BY created_at, id", owner_id
    )
    return [view_of(r) for r in rows]


async def get_owned(pool: Pool | Connection, owner_id: str, endpoint_id: str) -> EndpointView | None:
    record = await pool.fetchrow(
        f"SELECT {_VIEW_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND owner_id = $2", endpoint_id, owner_id
    )
    return None if record is None else view_of(record)


async def update_owned(
    pool: Pool, owner_id: str, endpoint_id: str, changes: dict[str, Any], at: datetime
) -> EndpointView | None:
    """Apply `changes` (of `EDITABLE`); enabling clears why it was disabled and the failure streak."""
    editable = {name: value for name, value in changes.items() if name in EDITABLE}
    assigned = [f"{name} = ${i}" for i, name in enumerate(editable, start=4)]
    if editable.get("enabled") is True:
        assigned += ["disabled_reason = ''", "disabled_at = NULL", "failing_since = NULL"]
    elif editable.get("enabled") is False:
        assigned += ["disabled_reason = 'user'", "disabled_at = $3"]
    # Column names come from EDITABLE only; the values are parameters.
    record = await pool.fetchrow(
        f"""
        UPDATE webhook_endpoints SET {", ".join(["updated_at = $3", *assigned])}
        WHERE id = $1 AND owner_id = $2 RETURNING {_VIEW_COLUMNS}
        """,
        endpoint_id,
        owner_id,
        at,
        *editable.values(),
    )
    return None if record is None else view_of(record)


async def delete_owned(pool: Pool, owner_id: str, endpoint_id: str) -> EndpointView | None:
    record = await pool.fetchrow(
        f"DELETE FROM webhook_endpoints WHERE id = $1 AND owner_id = $2 RETURNING {_VIEW_COLUMNS}",
        endpoint_id,
        owner_id,
    )
    return None if record is None else view_of(record)


async def rotate_owned(
    pool: Pool, owner_id: str, endpoint_id: str, secret: str, *, at: datetime, previous_until: datetime
) -> EndpointView | None:
    """The new secret signs from now on; the current one goes on signing until `previous_until`."""
    record = await pool.fetchrow(
        f"""
        UPDATE webhook_endpoints
        SET previous_secret = secret, previous_secret_expires_at = $4, secret = $3, updated_at = $5
        WHERE id = $1 AND owner_id = $2 RETURNING {_VIEW_COLUMNS}
        """,
        endpoint_id,
        owner_id,
        secret,
        previous_until,
        at,
    )
    return None if record is None else view_of(record)


async def signing_endpoint(connection: Pool | Connection, endpoint_id: str, at: datetime) -> SigningEndpoint | None:
    record = await connection.fetchrow(
        "SELECT id, owner_id, url, enabled, secret, previous_secret, previous_secret_expires_at"
        " FROM webhook_endpoints WHERE id = $1",
        endpoint_id,
    )
    if record is None:
        return None
    secrets = [record["secret"]]
    expires = record["previous_secret_expires_at"]
    if record["previous_secret"] and expires is not None and expires > at:
        secrets.append(record["previous_secret"])
    return SigningEndpoint(record["id"], record["owner_id"], record["url"], record["enabled"], secrets)


async def subscribed(connection: Connection, owner_id: str, event_type: str) -> list[str]:
    """The owner's enabled endpoints that take `event_type`."""
    rows = await connection.fetch(
        """
        SELECT id FROM webhook_endpoints
        WHERE owner_id = $1 AND enabled AND (events ? $2 OR events ? '*') ORDER BY created_at
        """,
        owner_id,
        event_type,
    )
    return [r["id"] for r in rows]


async def mark_success(connection: Connection, endpoint_id: str, at: datetime) -> None:
    await connection.execute(
        "UPDATE webhook_endpoints SET last_success_at = $2, failing_since = NULL WHERE id = $1", endpoint_id, at
    )


async def mark_failure(connection: Connection, endpoint_id: str, at: datetime) -> datetime | None:
    """Start (or go on with) the endpoint's failure streak; when it began."""
    since: datetime | None = await connection.fetchval(
        "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1"
        " RETURNING failing_since",
        endpoint_id,
        at,
    )
    return since


async def disable(connection: Connection, endpoint_id: str, reason: str, at: datetime) -> bool:
    """Disable an enabled endpoint; whether it was enabled."""
    result = await connection.execute(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = $3, updated_at = $3"
        " WHERE id = $1 AND enabled",
        endpoint_id,
        reason,
        at,
    )
    return result.endswith(" 1")


async def count_exhausted(connection: Connection, endpoint_id: str, count: int) -> None:
    await connection.execute(
        "UPDATE webhook_endpoints SET exhausted_messages = exhausted_messages + $2 WHERE id = $1", endpoint_id, count
    )
