"""The bodies of the admin routes: a user's store quota, and the audit trail."""

from __future__ import annotations

import msgspec

from storeplane_contracts.audit import CommandAudited


class SetQuotaBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A user's own limit of live stores; null returns the user to the platform's default."""

    store_limit: int | None


class UserQuotaBody(msgspec.Struct, frozen=True):
    """A user's store quota as an admin sees it: the limit in force, the user's own (if any), and the use."""

    user_id: str
    email: str
    limit: int
    override: int | None
    in_use: int


class AuditListBody(msgspec.Struct, frozen=True):
    """Audit records, newest first."""

    entries: list[CommandAudited]
