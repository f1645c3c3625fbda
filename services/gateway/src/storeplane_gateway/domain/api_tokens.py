"""API tokens for integrations: the record without its secret, and how a secret is made and stored.

A token's secret is `sp_` and 256 random bits; only its SHA-256 hash is ever stored, and its first
characters are kept in the clear so that its owner can recognise it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import msgspec

API_TOKEN_PREFIX = "sp_"
# The first characters of an API token, kept in the clear so that its owner can recognise it.
API_TOKEN_SHOWN_PREFIX = 10


class ApiToken(msgspec.Struct, frozen=True):
    """An API token for an integration, without its secret (which is only ever stored hashed)."""

    id: str
    user_id: str
    name: str
    scopes: tuple[str, ...]
    prefix: str  # the first characters of the secret, to recognise it
    created_at: datetime
    last_used_at: datetime | None = None


def new_api_token() -> str:
    """A new API token's secret: `sp_` and 256 random bits, URL-safe."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(secret: str) -> str:
    """How an API token is stored and looked up: a SHA-256 hex digest (the secret has 256 random bits)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()
