"""Ids as the API takes them: uuids in canonical form; anything else names nothing."""

from __future__ import annotations

import uuid


def canonical_id(raw: str) -> str | None:
    """`raw` as a canonical uuid string (lower case, hyphenated), or None when it is not a uuid."""
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None
