"""What only admins may do: set a user's store limit, and read the audit trail.

Every route here needs an admin's login session (role `admin` in the token, checked by the
`require_admin` guard); anyone else gets 403 `admin_only`. Admins are made by an operator, never
through the API (`storeplane-gateway admin grant EMAIL`, `administering.py`). Admins also see and act on every
store through the stores routes (`GET /api/v1/stores?all=true`, and any store by id).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, put
from litestar.di import NamedDependency
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath, JSONBody, Parameter

from storeplane_contracts.subjects import ANONYMOUS_ACTOR
from storeplane_gateway.auditing import AUDIT
from storeplane_gateway.auth import SECURITY_SCHEME, require_admin
from storeplane_gateway.bodies import AuditListBody, SetQuotaBody, UserQuotaBody
from storeplane_gateway.errors import ApiError, documented
from storeplane_gateway.ports import AuditLog, StoredUser, StoreSlots, Users
from storeplane_gateway.quotas import limit_of
from storeplane_gateway.settings import GatewaySettings

MAX_STORE_LIMIT = 1000
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_ERRORS = {401: "`not_authenticated`", 403: "`admin_only` (or `session_required`)"}

AuditLimit = Annotated[int, Parameter(ge=1, le=500, description="How many records, newest first.")]
AuditAction = Annotated[
    str | None,
    Parameter(pattern=r"^[a-z_]{1,40}$", description="Only this action, e.g. `create_store` or `login`."),
]
AuditActor = Annotated[
    str | None,
    Parameter(
        pattern=f"({_UUID})|^{ANONYMOUS_ACTOR}$",
        description=f"Only this user's commands (a user id), or `{ANONYMOUS_ACTOR}` for unauthenticated ones.",
    ),
]


def _user_not_found(user_id: str) -> ApiError:
    return ApiError(404, "user_not_found", f"there is no user with id {user_id!r}")


async def _quota(user: StoredUser, slots: StoreSlots, default: int) -> UserQuotaBody:
    return UserQuotaBody(
        user_id=user.id,
        email=user.email,
        limit=limit_of(user, default),
        override=user.store_limit,
        in_use=len(await slots.of_owner(user.id)),
    )


@get(
    "/users/{user_id:str}/quota",
    summary="A user's store quota",
    responses=documented({**_ERRORS, 400: "`invalid_request`", 404: "`user_not_found`"}),
)
async def get_quota(
    user_id: FromPath[str],
    users: NamedDependency[Users],
    slots: NamedDependency[StoreSlots],
    settings: NamedDependency[GatewaySettings],
) -> UserQuotaBody:
    user = await users.by_id(user_id)
    if user is None:
        raise _user_not_found(user_id)
    return await _quota(user, slots, settings.max_stores_per_user)


@put(
    "/users/{user_id:str}/quota",
    summary="Set a user's own store limit",
    description="`store_limit` is how many live stores the user may have; `null` returns them to the default.",
    opt={AUDIT: "set_quota"},
    responses=documented(
        {
            **_ERRORS,
            400: "`invalid_body`: not a JSON object with exactly `store_limit` (an integer or null)",
            404: "`user_not_found`",
            422: "`invalid_quota`",
        }
    ),
)
async def set_quota(
    user_id: FromPath[str],
    data: JSONBody[SetQuotaBody],
    users: NamedDependency[Users],
    slots: NamedDependency[StoreSlots],
    settings: NamedDependency[GatewaySettings],
) -> UserQuotaBody:
    limit = data.store_limit
    if limit is not None and not 0 <= limit <= MAX_STORE_LIMIT:
        raise ApiError(422, "invalid_quota", f"store_limit must be 0 to {MAX_STORE_LIMIT}, or null for the default")
    user = await users.set_store_limit(user_id, limit)
    if user is None:
        raise _user_not_found(user_id)
    return await _quota(user, slots, settings.max_stores_per_user)


@get(
    "/audit",
    summary="The audit trail, newest first",
    description="Every command given through the API: who, what, when, from where, and the outcome.",
    responses=documented(
        {**_ERRORS, 400: "`invalid_request`: a bad `limit`, `action` or `actor_id`", 503: "`bus_unavailable`"}
    ),
)
async def audit_trail(
    audit_log: NamedDependency[AuditLog],
    limit: AuditLimit = 100,
    action: AuditAction = None,
    actor_id: AuditActor = None,
) -> AuditListBody:
    actor = actor_id.lower() if actor_id else None
    return AuditListBody(entries=await audit_log.recent(limit=limit, action=action, actor_id=actor))


def admin_router(authentication: DefineMiddleware) -> Router:
    return Router(
        path="/api/v1/admin",
        route_handlers=[get_quota, set_quota, audit_trail],
        middleware=[authentication],
        guards=[require_admin],
        security=[{SECURITY_SCHEME: []}],
        tags=["admin"],
    )
