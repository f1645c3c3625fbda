"""Pages of the lists that grow (stores, timelines, the audit trail, webhook deliveries), and their cursors.

A list is read by keyset: a page is the items after a key, never an OFFSET, so an item added meanwhile
neither repeats nor hides another. The cursor that names where the next page starts is opaque to
clients: base64url (unpadded) of a JSON array whose first element says the kind of key, `t` for
(created_at, id) on newest-first lists, `s` for a stream sequence; a cursor of another kind, or not one
at all, is `InvalidCursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from storeplane_gateway.domain.errors import InvalidCursor

T = TypeVar("T")

DEFAULT_PAGE = 50
MAX_PAGE = 200
# Longer than any cursor the API hands out (an id and a timestamp take ~110 characters).
_MAX_CURSOR = 256
_MAX_SEQUENCE = 2**63  # a Postgres bigint, as stream sequences are stored
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next (None on the last)."""

    items: list[T]
    next_cursor: str | None


def page_of(found: list[T], limit: int, cursor_of: Callable[[T], str]) -> Page[T]:
    """The page of `limit` items from `found`, read with one more than `limit`: that one says a next page exists."""
    if len(found) > limit:
        return Page(found[:limit], cursor_of(found[limit - 1]))
    return Page(found, None)


def time_cursor(created_at: datetime, item_id: str) -> str:
    return _encode(["t", created_at.isoformat(), item_id])


def sequence_cursor(sequence: int) -> str:
    return _encode(["s", sequence])


def parse_time_cursor(raw: str) -> tuple[datetime, str]:
    """The (created_at, id) a newest-first list's cursor names; InvalidCursor otherwise."""
    parts = _decode(raw)
    if len(parts) != 3 or parts[0] != "t" or not all(isinstance(part, str) for part in parts[1:]):
        raise InvalidCursor("it is not a cursor of this list")
    try:
        created_at = datetime.fromisoformat(parts[1])
    except ValueError:
        raise InvalidCursor("its time is not a time") from None
    if created_at.tzinfo is None:
        raise InvalidCursor("its time has no time zone")
    return created_at, parts[2]


def parse_sequence_cursor(raw: str) -> int:
    """The stream sequence a timeline's or the audit trail's cursor names; InvalidCursor otherwise."""
    parts = _decode(raw)
    if len(parts) != 2 or parts[0] != "s" or type(parts[1]) is not int or not 0 <= parts[1] < _MAX_SEQUENCE:
        raise InvalidCursor("it is not a cursor of this list")
    return int(parts[1])


def _encode(parts: list[Any]) -> str:
    text = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode()


def _decode(raw: str) -> list[Any]:
    if len(raw) > _MAX_CURSOR or not _BASE64URL.fullmatch(raw):
        raise InvalidCursor("it is empty, too long, or not base64url")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("it is not a cursor this API handed out") from None
    if not isinstance(decoded, list) or not decoded:
        raise InvalidCursor("it is not a cursor this API handed out")
    return decoded
