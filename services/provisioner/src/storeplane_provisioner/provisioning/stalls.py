"""StepStalled: a step that runs well past how long it usually takes says so, with what its namespace
shows, so a user learns why a store is slow before the step's deadline rather than at it.

A watchdog runs beside each provisioning step (`watching`): it sleeps until the step's threshold,
max(3 x the engine's p95 for that step, a floor), then asks the cluster once what holds the namespace
back and publishes `StepStalled`. The step ending cancels it, so a step stalls at most once per
attempt; a threshold past the step's deadline is left to the deadline, which reports what was late.
Nothing here can fail or slow the step: a figure, a finding or a publish that fails only costs the
note (or its findings).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from storeplane_contracts.events import FailureStep, StallFinding, StepStalled
from storeplane_provisioner import metrics
from storeplane_provisioner.ports import Clock, Cluster, Publish, StepFigures

log = structlog.get_logger("storeplane.provisioner.stalls")

# A step this many times slower than its p95 is stalled, unless that is below the floor.
STALL_FACTOR = 3.0
# Warning events seen this long before the step began still count: the step before may have caused them.
EVENTS_BEFORE_SECONDS = 60.0


def threshold(p95_seconds: float | None, floor_seconds: float) -> float:
    """When a step counts as stalled: max(3 x p95, the floor); the floor alone without a p95."""
    if p95_seconds is None:
        return floor_seconds
    return max(STALL_FACTOR * p95_seconds, floor_seconds)


@dataclass(frozen=True)
class Stalls:
    """What the watchdog needs: the figures, the floor (0: no watchdog) and where the note goes."""

    figures: StepFigures
    publish: Publish
    floor_seconds: float


@dataclass(frozen=True)
class Watched:
    """The step being watched, and where its note belongs."""

    step: FailureStep
    engine: str
    namespace: str
    store_id: str
    owner_id: str
    note_id: str  # the `StepStalled`'s event id: one per step and attempt
    cluster: Cluster
    clock: Clock
    # The step's deadline (wall clock): a threshold at or past it is no stall, the deadline reports.
    deadline: float = math.inf


@asynccontextmanager
async def watching(stalls: Stalls | None, watched: Watched) -> AsyncIterator[None]:
    """Watch the step for the time of the `async with` (nothing happens without `stalls` or a floor)."""
    if stalls is None or stalls.floor_seconds <= 0:
        yield
        return
    task = asyncio.create_task(_watch(stalls, watched, started=watched.clock.time()))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _p95(stalls: Stalls, watched: Watched) -> float | None:
    try:
        return await stalls.figures.p95_seconds(watched.engine, watched.step)
    except Exception as exc:  # no figures: the floor alone
        log.info("step figures not read", step=watched.step, error=repr(exc))
        return None


async def _findings(watched: Watched, started: float) -> list[StallFinding]:
    try:
        return await watched.cluster.stall_findings(watched.namespace, since=started - EVENTS_BEFORE_SECONDS)
    except Exception as exc:  # the note still says the step is slow
        log.info("stalled step's namespace not read", step=watched.step, error=repr(exc))
        return []


async def _watch(stalls: Stalls, watched: Watched, *, started: float) -> None:
    limit = threshold(await _p95(stalls, watched), stalls.floor_seconds)
    if started + limit >= watched.deadline:
        return  # the deadline comes first, and says what was late
    await watched.clock.sleep(max(0.0, started + limit - watched.clock.time()))
    findings = await _findings(watched, started)
    note = StepStalled(
        store_id=watched.store_id,
        owner_id=watched.owner_id,
        event_id=watched.note_id,
        step=watched.step,
        running_for_seconds=round(watched.clock.time() - started, 1),
        threshold_seconds=round(limit, 1),
        findings=findings,
    )
    metrics.STALLS.labels(watched.engine, watched.step).inc()
    log.warning("step stalled", step=watched.step, threshold=round(limit, 1), findings=len(findings))
    try:
        await stalls.publish(note)
    except Exception as exc:  # the bus is away: the log keeps the note
        log.info("stall not noted in the timeline", step=watched.step, error=repr(exc))
