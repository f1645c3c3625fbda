"""Idempotency records: a client's `Idempotency-Key`, the claim on it and the answer kept under it."""

from __future__ import annotations

import msgspec


class IdempotencyKey(msgspec.Struct, frozen=True):
    """A client's `Idempotency-Key`, scoped to who sent it and to the operation it was sent with."""

    principal_id: str
    operation: str  # method and path, e.g. "DELETE /api/v1/stores/<id>"
    key: str


class StoredResponse(msgspec.Struct, frozen=True):
    """A command's answer, kept under its idempotency key to be replayed to a retry."""

    status_code: int
    headers: dict[str, str]
    body: bytes
    target: str = ""  # what the command acted on, so that a replay is audited like the original


class KeyClaimed(msgspec.Struct, frozen=True):
    """The key is now the caller's: run the command, then complete or release the claim with `token`."""

    token: str


class KeyHeld(msgspec.Struct, frozen=True):
    """An earlier request holds the key: its fingerprint, and its answer once it finished."""

    fingerprint: str
    response: StoredResponse | None  # None while that request is in flight
