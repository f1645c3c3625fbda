"""Guards of the stream routes: reading stores is what a stream needs, and `?all=true` is an admin's."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from storeplane_gateway.areas.accounts.guards import require_scope
from storeplane_gateway.domain.principals import STORES_READ
from storeplane_gateway.http.authentication import caller
from storeplane_gateway.http.errors import ApiError

reads_stores = require_scope(STORES_READ)


async def all_only_for_admins(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """`?all=true` (every user's stores) needs an admin's login session; refused before the stream opens."""
    if connection.query_params.get("all", "").lower() in ("true", "1") and not caller(connection).is_admin:
        raise ApiError(403, "admin_only", "only an admin's session may stream every user's stores")
