"""Guards: what the caller's credential may do, checked server-side, per route.

Each is a coroutine: Litestar runs a plain function guard in its thread pool, a hop that cost a
fifth of the gateway's time under load for a check of a few attribute reads (docs/performance.md)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from storeplane_gateway.http.authentication import LOGIN_HINT, caller
from storeplane_gateway.http.errors import ApiError


def require_scope(scope: str) -> Guard:
    """A guard: the credential must carry `scope` (login sessions carry all)."""

    async def has_scope(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if scope not in caller(connection).scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                f"this API token lacks the `{scope}` scope; create a token with it at POST /api/v1/tokens",
            )

    has_scope.__name__ = f"require_{scope.replace(':', '_')}"
    return has_scope


async def require_session(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: a login session's token, not an API token."""
    if not caller(connection).session_id:
        raise ApiError(403, "session_required", f"API tokens cannot do this; use a login session's token: {LOGIN_HINT}")


async def require_admin(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """A guard: an admin's login session."""
    await require_session(connection, handler)
    if not caller(connection).is_admin:
        raise ApiError(403, "admin_only", "only admins may do this")
