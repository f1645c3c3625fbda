"""What the provisioner does with a command: the rows of a step table, run in order by one loop.

Provisioning makes sure, before each step, that the store's deletion has not been requested
meanwhile (a request redelivered after a crash, a retry racing a delete): if it has, it removes
what it created and raises `Withdrawn`, so no namespace outlives its store. Deletion has no
overall deadline: a store being deleted is never left half-deleted for lack of time.

Every failure leaves as a `ProvisioningError` naming its step: inside a step, that step
(`deadlines.bounded`); between steps, the step last run; before the first step, the first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from opentelemetry import trace

from storeplane_contracts.events import Event, ProvisioningStarted, StoreDeletionRequested, StoreRequested
from storeplane_provisioner import metrics
from storeplane_provisioner.errors import PermanentError, Withdrawn, blamed_on
from storeplane_provisioner.ports import Clock, Cluster, DeletionRequested, Heartbeat, Helm, Publish
from storeplane_provisioner.provisioning.config import Provisioning
from storeplane_provisioner.provisioning.deadlines import SYSTEM_CLOCK, bounded
from storeplane_provisioner.provisioning.stalls import Stalls, Watched, watching
from storeplane_provisioner.provisioning.steps import (
    DELETION_STEPS,
    PROVISIONING_STEPS,
    Command,
    Run,
    Step,
    StoreCommand,
    step_id,
)

Check = Callable[[], Awaitable[None]]
tracer = trace.get_tracer("storeplane.provisioner")


async def _nothing_to_check() -> None:
    return None


def deadline_of(request: Event, seconds: float) -> float:
    """The provisioning deadline as a wall-clock timestamp, counted from the request."""
    return request.occurred_at.timestamp() + seconds


async def converged(step: Step[Command, Any], run: Run[Command], overall: float = math.inf) -> Any:
    """What the step converged to, under its own deadline and never past `overall`; in a span of its
    own, and timed for `storeplane_step_duration_seconds` when it succeeds."""
    attributes = {
        "storeplane.step": step.name,
        "storeplane.store_id": run.command.store_id,
        "k8s.namespace.name": run.namespace,
    }
    with tracer.start_as_current_span(f"step {step.name}", attributes=attributes):
        started = time.perf_counter()
        engine = getattr(run.command, "engine", None)
        async with (
            bounded(step.name, step.seconds_in(run.config), overall, clock=run.clock) as deadline,
            watching(run.stalls if engine else None, watched(step, run, engine or "", deadline)),
        ):
            result = await step.converge(run, deadline)
        if engine is not None:
            metrics.STEP_DURATION.labels(engine, step.name).observe(time.perf_counter() - started)
        return result


def watched(step: Step[Command, Any], run: Run[Command], engine: str, deadline: float) -> Watched:
    return Watched(
        step=step.name,
        engine=engine,
        namespace=run.namespace,
        store_id=run.command.store_id,
        owner_id=run.command.owner_id,
        note_id=step_id(run.command.event_id, f"stalled-{step.name}-{run.attempt}"),
        cluster=run.cluster,
        clock=run.clock,
        deadline=deadline,
    )


async def run_steps(
    steps: Sequence[Step[Command, Any]],
    run: Run[Command],
    *,
    publish: Publish,
    overall: float = math.inf,
    unless_withdrawn: Check = _nothing_to_check,
) -> Event:
    """Converge every row in order and publish its event; return the last event (the outcome).

    `unless_withdrawn` runs before each step, and once more before the last event is published:
    a store deleted meanwhile is never reported ready afterwards.
    """
    came_after = steps[0].name
    for index, step in enumerate(steps):
        with blamed_on(came_after):
            await unless_withdrawn()
        result = await converged(step, run, overall)
        with blamed_on(step.name):
            if index == len(steps) - 1:
                await unless_withdrawn()
            event = step.done(run, result)
            await publish(event)
        came_after = step.name
    return event


async def provision_store(
    request: StoreRequested,
    *,
    attempt: int,
    cluster: Cluster,
    helm: Helm,
    publish: Publish,
    heartbeat: Heartbeat,
    config: Provisioning,
    deletion_requested: DeletionRequested,
    clock: Clock = SYSTEM_CLOCK,
    stalls: Stalls | None = None,
) -> Event:
    """Run every provisioning step for one store request and publish its events; return the
    `StoreReady`. Raises on failure, and `Withdrawn` when the store's deletion was requested.
    Each step is watched for a stall (`stalls`)."""
    run = Run(request, cluster, helm, heartbeat, config, clock, attempt=attempt, stalls=stalls)
    overall = deadline_of(request, config.deadline_seconds)

    async def unless_withdrawn() -> None:
        if await deletion_requested(request.store_id):
            await remove_store(run)
            raise Withdrawn(f"store {request.store_id} was deleted while it was being provisioned")

    with blamed_on(PROVISIONING_STEPS[0].name):
        await unless_withdrawn()
        started = step_id(request.event_id, f"started-{attempt}")
        await publish(
            ProvisioningStarted(store_id=request.store_id, owner_id=request.owner_id, event_id=started, attempt=attempt)
        )
    if clock.time() > overall:
        raise PermanentError("deadline", "timeout", "provisioning did not finish before its deadline")
    if request.engine not in config.installable:
        raise PermanentError("chart", "unsupported_engine", f"engine {request.engine!r} cannot be installed yet")
    return await run_steps(PROVISIONING_STEPS, run, publish=publish, overall=overall, unless_withdrawn=unless_withdrawn)


async def delete_store(
    request: StoreDeletionRequested,
    *,
    cluster: Cluster,
    helm: Helm,
    publish: Publish,
    heartbeat: Heartbeat,
    config: Provisioning,
    clock: Clock = SYSTEM_CLOCK,
) -> Event:
    """Uninstall the release, delete the namespace, wait until it is gone, each step under its own
    deadline and with its event; return the `StoreDeleted`."""
    run: Run[StoreCommand] = Run(request, cluster, helm, heartbeat, config, clock)
    return await run_steps(DELETION_STEPS, run, publish=publish)


async def remove_store(run: Run[StoreRequested]) -> None:
    """What deletion does, without its events: a withdrawn request removes what it created."""
    removal: Run[StoreCommand] = Run(run.command, run.cluster, run.helm, run.heartbeat, run.config, run.clock)
    for step in DELETION_STEPS:
        await converged(step, removal)
