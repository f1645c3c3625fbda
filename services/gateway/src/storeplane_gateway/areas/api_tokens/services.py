"""The rules for API tokens: what a token may be called and do, how many a user may have, and revoking.

A token is `sp_` and 256 random bits; only its SHA-256 hash is stored, and the secret is handed
back this once. It authenticates as its owner with the scopes it was given, never as an admin.
Every refusal is a domain error; `storeplane_gateway.http.error_answers` says how the API answers it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from storeplane_contracts.events import new_id
from storeplane_gateway.domain.api_tokens import API_TOKEN_SHOWN_PREFIX, ApiToken, hash_api_token, new_api_token
from storeplane_gateway.domain.errors import InvalidScopes, InvalidTokenName, TokenLimitReached, TokenNotFound
from storeplane_gateway.domain.ids import canonical_id
from storeplane_gateway.domain.principals import SCOPES, Principal
from storeplane_gateway.ports import ApiTokens, AuditNotes, no_notes

MAX_NAME = 64
# The OpenAPI schema shows the same pattern (schemas.py).
TOKEN_NAME_PATTERN = r"^\s*[!-~]([ -~]*[!-~])?\s*$"
_TOKEN_NAME = re.compile(TOKEN_NAME_PATTERN)
MAX_TOKENS_PER_USER = 20


class NewApiToken(NamedTuple):
    """A token just made, and its secret (never stored)."""

    token: ApiToken
    secret: str


def checked_token_name(raw: str) -> str:
    """The name without the spaces around it, or InvalidTokenName: 1 to 64 printable ASCII characters."""
    if not 1 <= len(raw) <= MAX_NAME or not raw.strip():
        raise InvalidTokenName(max_length=MAX_NAME)
    if not _TOKEN_NAME.fullmatch(raw):
        raise InvalidTokenName(max_length=MAX_NAME, control_characters=True)
    return raw.strip()


def checked_scopes(raw: Sequence[str]) -> tuple[str, ...]:
    """The scopes asked for, each once and in their canonical order, or InvalidScopes."""
    if not raw:
        raise InvalidScopes(known=SCOPES)
    unknown = [scope for scope in raw if scope not in SCOPES]
    if unknown:
        raise InvalidScopes(known=SCOPES, unknown=unknown[0])
    return tuple(scope for scope in SCOPES if scope in raw)


class ApiTokenService:
    """The API token rules over the `ApiTokens` port, for the owner of a login session."""

    def __init__(self, api_tokens: ApiTokens) -> None:
        self._api_tokens = api_tokens

    async def create(
        self, owner: Principal, raw_name: str, scopes: Sequence[str], *, notes: AuditNotes = no_notes
    ) -> NewApiToken:
        """A new token of the owner's; TokenNameTaken if they have one of that name."""
        name, checked = checked_token_name(raw_name), checked_scopes(scopes)
        if len(await self._api_tokens.of_user(owner.id)) >= MAX_TOKENS_PER_USER:
            raise TokenLimitReached(MAX_TOKENS_PER_USER)
        secret = new_api_token()
        token = ApiToken(
            id=new_id(),
            user_id=owner.id,
            name=name,
            scopes=checked,
            prefix=secret[:API_TOKEN_SHOWN_PREFIX],
            created_at=datetime.now(UTC),
        )
        notes(target=token.id)
        await self._api_tokens.add(token, hash_api_token(secret))
        return NewApiToken(token, secret)

    async def tokens(self, owner: Principal) -> list[ApiToken]:
        """The owner's tokens, newest first."""
        return await self._api_tokens.of_user(owner.id)

    async def revoke(self, owner: Principal, raw_id: str) -> None:
        """Delete the owner's token, or TokenNotFound (for a malformed id too)."""
        token_id = canonical_id(raw_id)
        if token_id is None or not await self._api_tokens.revoke(owner.id, token_id):
            raise TokenNotFound(raw_id)
