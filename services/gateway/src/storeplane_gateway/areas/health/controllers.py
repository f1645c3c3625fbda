"""Probes for the platform: liveness, readiness (NATS, Postgres and the status service) and nothing else.

`/health` only says the process serves HTTP; `/ready` says whether requests can succeed,
and which dependency is missing when they cannot. The dependencies are asked at once, each
with a short timeout; the status service is asked a query that needs no data (a store that
cannot exist), so the probe costs it one indexed read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from litestar import Response, Router, get
from litestar.di import NamedDependency

from storeplane_gateway.areas.health.schemas import HealthBody, NotReadyBody, ReadyBody
from storeplane_gateway.domain.errors import DependencyUnavailable
from storeplane_gateway.http.errors import ErrorDetail
from storeplane_gateway.ports import Bus, StatusQueries, Users


@get("/health", summary="Liveness", sync_to_thread=False)
def health() -> HealthBody:
    return HealthBody(status="ok")


async def _answers(ping: Callable[[], Awaitable[None]]) -> str:
    try:
        await ping()
    except DependencyUnavailable as exc:
        return f"not answering ({exc})"
    return "ok"


async def _nats(bus: Bus) -> str:
    return await bus.problem() or "ok"


@get("/ready", summary="Readiness: NATS connected, Postgres and the status service answering")
async def ready(
    bus: NamedDependency[Bus], users: NamedDependency[Users], status_queries: NamedDependency[StatusQueries]
) -> Response[ReadyBody | NotReadyBody]:
    nats, postgres, status = await asyncio.gather(_nats(bus), _answers(users.ping), _answers(status_queries.ping))
    checks = {"nats": nats, "postgres": postgres, "status": status}
    failed = [name for name, state in checks.items() if state != "ok"]
    if not failed:
        return Response(ReadyBody(status="ready", checks=checks))
    message = "not ready: " + "; ".join(f"{name} {checks[name]}" for name in failed)
    return Response(NotReadyBody(ErrorDetail("not_ready", message), checks), status_code=503)


def health_router() -> Router:
    return Router(path="/", route_handlers=[health, ready], tags=["operations"])
