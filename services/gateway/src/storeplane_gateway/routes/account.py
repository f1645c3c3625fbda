"""The caller's own account: who the token belongs to, and how much of the store quota is in use."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.middleware import DefineMiddleware

from storeplane_gateway.auth import SECURITY_SCHEME, caller, require_scope
from storeplane_gateway.bodies import AccountBody, QuotaBody, UserBody
from storeplane_gateway.errors import documented
from storeplane_gateway.ports import STORES_READ, StoreSlots, Users
from storeplane_gateway.quotas import store_limit
from storeplane_gateway.settings import GatewaySettings


@get(
    "/",
    summary="Your account and store quota",
    guards=[require_scope(STORES_READ)],
    responses=documented({401: "`not_authenticated`", 403: "`insufficient_scope`"}),
)
async def account(
    request: Request[Any, Any, Any],
    users: NamedDependency[Users],
    slots: NamedDependency[StoreSlots],
    settings: NamedDependency[GatewaySettings],
) -> AccountBody:
    principal = caller(request)
    limit = await store_limit(users, principal.id, settings.max_stores_per_user)
    in_use = len(await slots.of_owner(principal.id))
    return AccountBody(
        user=UserBody(id=principal.id, email=principal.email, role=principal.role),
        quota=QuotaBody(limit=limit, in_use=in_use),
    )


def account_router(authentication: DefineMiddleware) -> Router:
    return Router(
        path="/api/v1/account",
        route_handlers=[account],
        middleware=[authentication],
        security=[{SECURITY_SCHEME: []}],
        tags=["account"],
    )
