"""What the event streams carry and who may open them: a store event at its stream sequence, and
the single-use tickets that stand in for a bearer token where a browser's `EventSource` cannot send one.

A ticket's secret is random (256 bits) and stored only as its SHA-256 hash, like an API token's;
it names the principal it was made for, with that credential's scopes, and lives
`TICKET_TTL_SECONDS`.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import msgspec

TICKET_TTL_SECONDS = 60
TICKET_PREFIX = "spt_"


class SequencedEvent(msgspec.Struct, frozen=True):
    """A store event as the STORES stream holds it: its sequence there, its store, owner and type,
    and the timeline entry's fields (`event_id`, `occurred_at`, `data`) ready to send."""

    sequence: int
    store_id: str
    owner_id: str
    type: str
    event_id: str
    occurred_at: str  # ISO 8601, as the timeline answers it
    data: dict[str, Any]

    def entry(self) -> dict[str, Any]:
        """The same JSON as the store's timeline entry, plus the store id."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "sequence": self.sequence,
            "data": self.data,
            "store_id": self.store_id,
        }


STORE_DELETED = "StoreDeleted"


class Selector(msgspec.Struct, frozen=True):
    """Which events a stream follows: one store's, one owner's, or (`everything`, admins) all of them."""

    store_id: str | None = None
    owner_id: str | None = None
    everything: bool = False

    def matches(self, event: SequencedEvent) -> bool:
        if self.store_id is not None and event.store_id != self.store_id:
            return False
        if self.owner_id is not None and event.owner_id != self.owner_id:
            return False
        return self.everything or self.store_id is not None or self.owner_id is not None


class StreamEnded(Exception):
    """A stream's live subscription was ended: `reason` says why (the client resumes with its last id)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_ticket() -> str:
    """A new stream ticket's secret: `spt_` and 256 random bits, URL-safe."""
    return TICKET_PREFIX + secrets.token_urlsafe(32)


def hash_ticket(ticket: str) -> str:
    """How a ticket is stored and claimed: its SHA-256 hex digest."""
    return hashlib.sha256(ticket.encode("utf-8", "surrogateescape")).hexdigest()
