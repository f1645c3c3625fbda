"""Probes for the platform: liveness, readiness (NATS and Postgres) and nothing else.

`/health` only says the process serves HTTP; `/ready` says whether requests can succeed,
and which dependency is missing when they cannot.
"""

from __future__ import annotations

import msgspec
from litestar import Response, Router, get
from litestar.di import NamedDependency

from storeplane_gateway.errors import ErrorDetail
from storeplane_gateway.ports import Bus, DatabaseUnavailable, Users


class HealthBody(msgspec.Struct, frozen=True):
    """The process is up."""

    status: str


class ReadyBody(msgspec.Struct, frozen=True):
    """Each dependency and whether it answers ("ok" or what is wrong)."""

    status: str
    checks: dict[str, str]


class NotReadyBody(msgspec.Struct, frozen=True):
    """The error shape, plus each dependency's state."""

    error: ErrorDetail
    checks: dict[str, str]


@get("/health", summary="Liveness", sync_to_thread=False)
def health() -> HealthBody:
    return HealthBody(status="ok")


@get("/ready", summary="Readiness: NATS connected and Postgres answering")
async def ready(bus: NamedDependency[Bus], users: NamedDependency[Users]) -> Response[ReadyBody | NotReadyBody]:
    checks = {"nats": await bus.problem() or "ok"}
    try:
        await users.ping()
        checks["postgres"] = "ok"
    except DatabaseUnavailable as exc:
        checks["postgres"] = f"not answering ({exc})"
    failed = [name for name, state in checks.items() if state != "ok"]
    if not failed:
        return Response(ReadyBody(status="ready", checks=checks))
    message = "not ready: " + "; ".join(f"{name} {checks[name]}" for name in failed)
    return Response(NotReadyBody(ErrorDetail("not_ready", message), checks), status_code=503)


def health_router() -> Router:
    return Router(path="/", route_handlers=[health, ready], tags=["operations"])
