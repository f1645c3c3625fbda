"""The admin rules: a user's own store limit (set by an admin through the API), and who is an admin.

Admins are granted and revoked by an operator (`storeplane-gateway admin grant|revoke|list`), never
through the API, and never by an email alone: registering proves nobody owns the address,
so an account becomes admin only when someone with access to the gateway's database names it,
after its owner registered it. The role is read from the account's row at every login and
refresh. A revoke also ends the account's sessions, so that the role it had leaves with the
access tokens that carry it (at once, not when they expire); API tokens never carry admin powers.
"""

from __future__ import annotations

from typing import NamedTuple

from storeplane_contracts.audit import CommandAudited
from storeplane_gateway.domain.errors import InvalidStoreLimit, UserNotFound
from storeplane_gateway.domain.pages import Page, page_of, parse_sequence_cursor, sequence_cursor
from storeplane_gateway.domain.users import StoredUser, limit_of
from storeplane_gateway.ports import AuditLog, Sessions, StoreSlots, Users

MAX_STORE_LIMIT = 1000


class UserQuota(NamedTuple):
    """A user, the store limit in force for them, and how many live stores they have."""

    user: StoredUser
    limit: int
    in_use: int


class UnknownAccount(Exception):
    """No account is registered with the email."""


async def _account(email: str, users: Users) -> StoredUser:
    if (account := await users.by_email(email.strip().lower())) is None:
        raise UnknownAccount(email)
    return account


async def grant_admin(email: str, *, users: Users) -> tuple[StoredUser, bool]:
    """Make the account an admin (from its next login or refresh); say whether it was not one already."""
    account = await _account(email, users)
    if account.role == "admin":
        return account, False
    await users.set_role(account.id, "admin")
    return account, True


async def revoke_admin(email: str, *, users: Users, sessions: Sessions) -> tuple[StoredUser, bool, int]:
    """Make the account a user again and end its sessions; say whether it was an admin, and how many
    sessions were ended."""
    account = await _account(email, users)
    was_admin = account.role == "admin"
    if was_admin:
        await users.set_role(account.id, "user")
    ended = await sessions.end_all(account.id) if was_admin else 0
    return account, was_admin, ended


async def find_by_email(email: str, *, users: Users) -> list[StoredUser]:
    """The account registered with the email (as the accounts rule normalises it), if any: an admin
    looking for a user to change their quota knows them by email, the API by id."""
    account = await users.by_email(email.strip().lower())
    return [account] if account is not None else []


async def list_admins(*, users: Users) -> list[StoredUser]:
    return await users.with_role("admin")


async def quota_of(user_id: str, *, users: Users, slots: StoreSlots, default: int) -> UserQuota:
    """The user's store quota; UserNotFound for an unknown id."""
    if (user := await users.by_id(user_id)) is None:
        raise UserNotFound(user_id)
    return await _quota(user, slots, default)


async def set_store_limit(
    user_id: str, limit: int | None, *, users: Users, slots: StoreSlots, default: int
) -> UserQuota:
    """Give the user their own limit (None: the default again); InvalidStoreLimit, UserNotFound."""
    if limit is not None and not 0 <= limit <= MAX_STORE_LIMIT:
        raise InvalidStoreLimit(MAX_STORE_LIMIT)
    if (user := await users.set_store_limit(user_id, limit)) is None:
        raise UserNotFound(user_id)
    return await _quota(user, slots, default)


async def _quota(user: StoredUser, slots: StoreSlots, default: int) -> UserQuota:
    return UserQuota(user, limit_of(user, default), len(await slots.of_owner(user.id)))


async def audit_page(
    audit_log: AuditLog, *, limit: int, cursor: str | None, action: str | None, actor_id: str | None
) -> Page[CommandAudited]:
    """A page of the audit trail, newest first, from `cursor` (the sequence the previous page ended at)."""
    before = None if cursor is None else parse_sequence_cursor(cursor)
    found = await audit_log.recent(limit=limit + 1, action=action, actor_id=actor_id, before=before)
    page = page_of(found, limit, lambda record: sequence_cursor(record.sequence))
    return Page([record.entry for record in page.items], page.next_cursor)
