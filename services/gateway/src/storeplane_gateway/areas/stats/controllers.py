"""`GET /api/v1/stats/steps`: how long each provisioning step takes per engine (p50, p95), from the status
service's read models. Figures only, no store or owner in them: any signed-in caller may read them."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from litestar import Router, get
from litestar.di import NamedDependency
from litestar.types import Middleware

from storeplane_contracts.queries import StepDurations
from storeplane_gateway.areas.accounts.guards import require_scope
from storeplane_gateway.domain.principals import STORES_READ
from storeplane_gateway.http.errors import documented
from storeplane_gateway.ports import StatusQueries


class StepStatsBody(msgspec.Struct, frozen=True):
    """Per engine and step (`to_ready`: a whole provisioning, request to ready), over recent provisionings."""

    steps: list[StepDurations]


@get(
    "/steps",
    summary="How long provisioning steps take",
    description="Per engine and step, the p50 and p95 durations of the last 30 days' provisionings; the step "
    "`to_ready` is a whole provisioning. A store being provisioned shows `estimated_ready_at` from these figures.",
    guards=[require_scope(STORES_READ)],
    responses=documented(
        {
            401: "`not_authenticated`",
            403: "`insufficient_scope`",
            503: "`status_unavailable`; retry after `Retry-After` seconds",
        }
    ),
)
async def step_stats(status_queries: NamedDependency[StatusQueries]) -> StepStatsBody:
    return StepStatsBody(steps=await status_queries.step_stats())


def stats_router(middleware: Sequence[Middleware], security_scheme: str) -> Router:
    return Router(
        path="/api/v1/stats",
        route_handlers=[step_stats],
        middleware=list(middleware),
        security=[{security_scheme: []}],
        tags=["stores"],
    )
