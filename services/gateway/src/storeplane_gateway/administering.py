"""Who is an admin: granted and revoked by an operator (`storeplane-gateway admin grant|revoke|list`).

Never through the API, and never by an email alone: registering proves nobody owns the address,
so an account becomes admin only when someone with access to the gateway's database names it,
after its owner registered it. The role is read from the account's row at every login and
refresh. A revoke also ends the account's sessions, so that the role it had leaves with the
access tokens that carry it (at once, not when they expire); API tokens never carry admin powers.
"""

from __future__ import annotations

from storeplane_gateway.ports import Sessions, StoredUser, Users


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


async def list_admins(*, users: Users) -> list[StoredUser]:
    return await users.with_role("admin")
