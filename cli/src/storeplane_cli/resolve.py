"""Commands take a store as its id or its name: a UUID is used as is, anything else is looked up
among the caller's stores (names are normalised as the API does: `My Shop` is `my-shop`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from storeplane_cli.errors import CliError


def looks_like_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def normalise_name(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def pick(value: str, stores: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The store `value` names among `stores`; a deleted one only if no live one has the name."""
    name = normalise_name(value)
    named = [store for store in stores if store.get("name") == name]
    live = [store for store in named if store.get("status") != "deleted"]
    if live or named:
        return (live or named)[0]
    raise CliError(f"No store named {name!r}: `storeplane stores list` shows yours.")
