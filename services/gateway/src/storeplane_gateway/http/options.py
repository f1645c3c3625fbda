"""`OPTIONS` answers list every method of the path.

Litestar's automatic `OPTIONS` handler lists the methods of the route it was made for, and when a
second handler joins a path (`GET /stores` after `POST /stores`) the route is rebuilt but the old
`OPTIONS` handler stays, listing too few. This `before_send` hook sets its `Allow` from the route
that now holds the handler.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

# Per route handler, held by the handler itself rather than its id (a new app's handler may reuse one).
_allowed: dict[Any, str] = {}


async def full_allow(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    handler: Any = scope.get("route_handler")
    if handler is None:
        return
    key = handler
    if key not in _allowed:
        routes = (route for route in scope["litestar_app"].routes if isinstance(route, HTTPRoute))
        methods = next((route.methods for route in routes if handler in route.route_handlers), None)
        if methods is None:
            return
        _allowed[key] = ", ".join(sorted(methods))
    headers = MutableScopeHeaders.from_message(message)
    if "allow" in headers:
        headers["allow"] = _allowed[key]
