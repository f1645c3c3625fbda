"""A store's estimated time to ready, from the engine's p50 and p95 to ready."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from storeplane_contracts.queries import StepDurations, StoreStatus, StoreView
from storeplane_status.stats import STEP_EVENTS, StepStats

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def store(status: StoreStatus = "provisioning", engine: str = "woocommerce") -> StoreView:
    return StoreView(
        id="s", owner_id="o", name="n", engine=engine, namespace="ns", status=status, created_at=T0, updated_at=T0
    )


def stats() -> StepStats:
    figures = StepStats()
    figures.replace([StepDurations(engine="woocommerce", step="to_ready", samples=9, p50_seconds=60, p95_seconds=300)])
    return figures


def test_the_p50_then_the_p95_then_nothing() -> None:
    figures = stats()
    assert figures.estimated_ready_at(store(), T0 + timedelta(seconds=10)) == T0 + timedelta(seconds=60)
    assert figures.estimated_ready_at(store(), T0 + timedelta(seconds=61)) == T0 + timedelta(seconds=300)
    assert figures.estimated_ready_at(store(), T0 + timedelta(seconds=301)) is None


def test_only_while_being_provisioned_and_with_figures_for_the_engine() -> None:
    figures = stats()
    assert figures.estimated_ready_at(store("ready"), T0) is None
    assert figures.estimated_ready_at(store("requested"), T0) == T0 + timedelta(seconds=60)
    assert figures.estimated_ready_at(store(engine="medusa"), T0) is None
    assert StepStats().estimated_ready_at(store(), T0) is None


def test_the_steps_follow_each_other() -> None:
    """Each step starts at the event that ended the one before it, the first at ProvisioningStarted."""
    assert STEP_EVENTS[0][1] == "ProvisioningStarted" and STEP_EVENTS[-1][2] == "StoreReady"
    assert all(before[2] == after[1] for before, after in itertools.pairwise(STEP_EVENTS))
