"""The admin routes: what only admins may do: find a user by email, set a user's store limit, and read
the audit trail.

Every route here needs an admin's login session (role `admin` in the token, checked by the
`require_admin` guard); anyone else gets 403 `admin_only`. Admins are made by an operator, never
through the API (`storeplane-gateway admin grant EMAIL`, `services.py`). Admins also see and act on every
store through the stores routes (`GET /api/v1/stores?all=true`, and any store by id).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get, put
from litestar.di import NamedDependency
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath, JSONBody, Parameter

from storeplane_contracts.subjects import ANONYMOUS_ACTOR
from storeplane_gateway.areas.accounts.guards import require_admin
from storeplane_gateway.areas.admin.schemas import (
    AdminUserBody,
    AdminUserListBody,
    AuditListBody,
    SetQuotaBody,
    UserQuotaBody,
)
from storeplane_gateway.areas.admin.services import UserQuota, audit_page, find_by_email, quota_of, set_store_limit
from storeplane_gateway.domain.pages import DEFAULT_PAGE
from storeplane_gateway.domain.users import EMAIL_PATTERN, MAX_EMAIL
from storeplane_gateway.http.audit_hook import AUDIT
from storeplane_gateway.http.authentication import SECURITY_SCHEME
from storeplane_gateway.http.errors import documented
from storeplane_gateway.http.pagination import LINK_HEADER, PageCursor, PageLimit, next_url, paged
from storeplane_gateway.ports import AuditLog, StoreSlots, Users
from storeplane_gateway.settings import GatewaySettings

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_ERRORS = {401: "`not_authenticated`", 403: "`admin_only` (or `session_required`)"}

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

UserEmail = Annotated[
    str,
    Parameter(
        min_length=3,
        max_length=MAX_EMAIL,
        pattern=EMAIL_PATTERN,
        description="The account's email, in any case (spaces around it are dropped).",
    ),
]


def _body(quota: UserQuota) -> UserQuotaBody:
    return UserQuotaBody(
        user_id=quota.user.id,
        email=quota.user.email,
        limit=quota.limit,
        override=quota.user.store_limit,
        in_use=quota.in_use,
    )


@get(
    "/users",
    summary="Find a user by email",
    description="The account registered with `email`, as a list of one, or empty: an admin knows a user by "
    "email, the quota routes by id.",
    responses=documented({**_ERRORS, 400: "`invalid_request`: a missing or malformed `email`"}),
)
async def find_users(users: NamedDependency[Users], email: UserEmail) -> AdminUserListBody:
    return AdminUserListBody(users=[AdminUserBody.from_user(user) for user in await find_by_email(email, users=users)])


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
    return _body(await quota_of(user_id, users=users, slots=slots, default=settings.max_stores_per_user))


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
    default = settings.max_stores_per_user
    return _body(await set_store_limit(user_id, data.store_limit, users=users, slots=slots, default=default))


@get(
    "/audit",
    summary="The audit trail, newest first, a page at a time",
    description="Every command given through the API: who, what, when, from where, and the outcome. "
    "Follow `next` (or the `Link` header) for older records.",
    response_headers=[LINK_HEADER],
    responses=documented(
        {
            **_ERRORS,
            400: "`invalid_request`: a bad `limit` (1 to 200), `action` or `actor_id`; "
            "`invalid_cursor`: start again without `cursor`",
            503: "`bus_unavailable`",
        }
    ),
)
async def audit_trail(
    request: Request[Any, Any, Any],
    audit_log: NamedDependency[AuditLog],
    limit: PageLimit = DEFAULT_PAGE,
    cursor: PageCursor = None,
    action: AuditAction = None,
    actor_id: AuditActor = None,
) -> Response[AuditListBody]:
    actor = actor_id.lower() if actor_id else None
    page = await audit_page(audit_log, limit=limit, cursor=cursor, action=action, actor_id=actor)
    link = next_url(request, page.next_cursor)
    return paged(AuditListBody(entries=page.items, next=link), link)


def admin_router(authentication: DefineMiddleware) -> Router:
    return Router(
        path="/api/v1/admin",
        route_handlers=[find_users, get_quota, set_quota, audit_trail],
        middleware=[authentication],
        guards=[require_admin],
        security=[{SECURITY_SCHEME: []}],
        tags=["admin"],
    )
