"""The bodies of the admin routes: finding a user, a user's store quota, and the audit trail."""

from __future__ import annotations

from typing import Annotated

import msgspec

from storeplane_contracts.audit import CommandAudited
from storeplane_gateway.areas.admin.services import MAX_STORE_LIMIT
from storeplane_gateway.domain.users import Role, StoredUser
from storeplane_gateway.http.pagination import NextPage

# The rule's bounds (services.py), shown in the OpenAPI schema.
StoreLimit = Annotated[int, msgspec.Meta(extra_json_schema={"extra": {"minimum": 0, "maximum": MAX_STORE_LIMIT}})]


class SetQuotaBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A user's own limit of live stores; null returns the user to the platform's default."""

    store_limit: StoreLimit | None


class UserQuotaBody(msgspec.Struct, frozen=True):
    """A user's store quota as an admin sees it: the limit in force, the user's own (if any), and the use."""

    user_id: str
    email: str
    limit: int
    override: int | None
    in_use: int


class AdminUserBody(msgspec.Struct, frozen=True):
    """An account as an admin sees it: its id, email, role and own store limit (null: the default)."""

    id: str
    email: str
    role: Role
    store_limit: int | None

    @classmethod
    def from_user(cls, user: StoredUser) -> AdminUserBody:
        return cls(id=user.id, email=user.email, role=user.role, store_limit=user.store_limit)


class AdminUserListBody(msgspec.Struct, frozen=True):
    """The accounts found: the one with the email asked for, or none."""

    users: list[AdminUserBody]


class AuditListBody(msgspec.Struct, frozen=True):
    """A page of audit records, newest first."""

    entries: list[CommandAudited]
    next: NextPage
