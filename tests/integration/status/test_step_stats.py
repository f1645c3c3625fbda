"""The per-step figures (p50, p95) the status service reads from its real Postgres timeline: a step's
duration is between the event before it and the one that ends it; a retry's wait between them does not
count; `to_ready` runs from the latest request or retry to ready."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TypedDict

import pytest

from storeplane_contracts import events
from storeplane_status.migrations import migrate
from storeplane_status.projections import Applied
from storeplane_status.repository import StoreRepository

pytestmark = pytest.mark.integration

START = datetime.now(UTC) - timedelta(days=1)
SEQUENCE = iter(range(1, 10_000))


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[StoreRepository]:
    repository = StoreRepository(database_url, pool_size=2)
    await repository.open()
    await migrate(repository.pool)
    yield repository
    await repository.close()


class Ids(TypedDict):
    store_id: str
    owner_id: str


async def provisioned(
    repository: StoreRepository, engine: events.Engine, chart_seconds: float, *, at: datetime, stalled: bool = False
) -> None:
    """One store through every step, one second a step but the chart's `chart_seconds`; `stalled`: a
    `StepStalled` note halfway through the chart."""
    request = events.StoreRequested(
        store_id=events.new_id(),
        owner_id="o",
        name=f"s-{events.new_id()[:6]}",
        engine=engine,
        namespace="ns",
        occurred_at=at,
    )
    ids = Ids(store_id=request.store_id, owner_id="o")
    t = at
    chain: list[events.AnyEvent] = [request]
    for make in (
        lambda when: events.ProvisioningStarted(**ids, occurred_at=when),
        lambda when: events.NamespaceCreated(**ids, namespace="ns", occurred_at=when),
        lambda when: events.QuotaApplied(**ids, namespace="ns", occurred_at=when),
        lambda when: events.LimitsApplied(**ids, namespace="ns", occurred_at=when),
        lambda when: events.NetworkPolicyApplied(**ids, namespace="ns", occurred_at=when),
        lambda when: events.CredentialsCreated(**ids, namespace="ns", secret="c", occurred_at=when),
    ):
        t += timedelta(seconds=1)
        chain.append(make(t))
    if stalled:
        halfway = t + timedelta(seconds=chart_seconds / 2)
        chain.append(
            events.StepStalled(
                **ids, step="chart", running_for_seconds=chart_seconds / 2, threshold_seconds=1.0, occurred_at=halfway
            )
        )
    t += timedelta(seconds=chart_seconds)
    chain.append(events.ChartInstalled(**ids, namespace="ns", release="store", chart=engine, revision=1, occurred_at=t))
    t += timedelta(seconds=1)
    chain.append(events.StoreReady(**ids, urls={}, occurred_at=t))
    for event in chain:
        assert await repository.apply("status", next(SEQUENCE), event) is Applied.APPLIED


async def test_p50_and_p95_per_engine_and_step(repository: StoreRepository) -> None:
    for index, chart_seconds in enumerate((10, 20, 30, 40, 100)):
        await provisioned(repository, "woocommerce", chart_seconds, at=START + timedelta(minutes=index))
    await provisioned(repository, "medusa", 5, at=START)
    figures = {(f.engine, f.step): f for f in await repository.step_stats()}
    chart = figures[("woocommerce", "chart")]
    assert (chart.samples, chart.p50_seconds) == (5, 30.0)
    assert chart.p95_seconds == pytest.approx(88.0)  # between 40 and 100, Postgres' percentile_cont
    assert figures[("woocommerce", "namespace")].p50_seconds == 1.0
    assert figures[("woocommerce", "readiness")].p50_seconds == 1.0
    # to_ready: request to ready = 1 s before the steps + 5 one-second steps + chart + readiness.
    assert figures[("woocommerce", "to_ready")].p50_seconds == 6 + 30 + 1
    assert figures[("medusa", "chart")].samples == 1 and figures[("medusa", "chart")].p50_seconds == 5.0


async def test_provisionings_older_than_the_window_do_not_count(repository: StoreRepository) -> None:
    await provisioned(repository, "woocommerce", 500, at=datetime.now(UTC) - timedelta(days=40))
    await provisioned(repository, "woocommerce", 7, at=START)
    figures = {(f.engine, f.step): f for f in await repository.step_stats()}
    assert figures[("woocommerce", "chart")].samples == 1 and figures[("woocommerce", "chart")].p50_seconds == 7.0


async def test_a_stalled_step_counts_with_its_whole_duration(repository: StoreRepository) -> None:
    # The note between the step's start and its end changes nothing: the slow run is what p95 is for.
    await provisioned(repository, "woocommerce", 90, at=START, stalled=True)
    figures = {(f.engine, f.step): f for f in await repository.step_stats()}
    assert figures[("woocommerce", "chart")].samples == 1 and figures[("woocommerce", "chart")].p50_seconds == 90.0
    assert figures[("woocommerce", "to_ready")].p50_seconds == 6 + 90 + 1
