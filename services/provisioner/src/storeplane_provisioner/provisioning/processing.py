"""From one delivered command to its outcome on the bus: done, retry later, or failed.

This is where errors decide retries: a temporary failure is retried with backoff until
`max_attempts`, then reported; a permanent one is reported at once. Every path ends in an
ack only after the final event is published, or in a nak, so no request is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias

import msgspec
import structlog
from structlog.types import FilteringBoundLogger

from storeplane_contracts.events import (
    DeletionFailed,
    Event,
    ProvisioningFailed,
    StepRetrying,
    StoreDegraded,
    StoreDeletionRequested,
    StoreRequested,
    StoreRetryRequested,
    decode,
    now,
)
from storeplane_contracts.naming import command_problem
from storeplane_provisioner import metrics
from storeplane_provisioner.errors import PermanentError, ProvisioningError, TemporaryError, Withdrawn
from storeplane_provisioner.ports import Clock, Cluster, DeletionRequested, Heartbeat, Helm, Publish, StoreDirectory
from storeplane_provisioner.provisioning.config import Provisioning
from storeplane_provisioner.provisioning.deadlines import SYSTEM_CLOCK
from storeplane_provisioner.provisioning.handlers import delete_store, provision_store
from storeplane_provisioner.provisioning.stalls import Stalls
from storeplane_provisioner.provisioning.steps import DELETION_STEPS, PROVISIONING_STEPS, step_id
from storeplane_runtime.logs import store_context

log = structlog.get_logger("storeplane.provisioner")


# What the provisioner is asked to do: provision a store (a request, a retry, a repair) or delete one.
Work: TypeAlias = StoreRequested | StoreDeletionRequested


class Outcome(Enum):
    """What to tell JetStream about the message."""

    ACK = "ack"
    RETRY = "retry"
    DROP = "drop"  # undecodable or invalid: terminate, redelivery cannot help


@dataclass(frozen=True)
class Decision:
    """An outcome, and for RETRY how long to wait first."""

    outcome: Outcome
    delay: float = 0.0


async def nothing_deleted(store_id: str) -> bool:
    return False


@dataclass(frozen=True)
class Dependencies:
    """Everything processing needs, wired by the bootstrap."""

    cluster: Cluster
    helm: Helm
    publish: Publish
    config: Provisioning
    directory: StoreDirectory | None = None
    deletion_requested: DeletionRequested = nothing_deleted
    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_cap: float = 60.0
    # How often a running command tells JetStream it is still in progress (below the ack wait).
    heartbeat_seconds: float = 10.0
    clock: Clock = SYSTEM_CLOCK
    # Provisioning steps running long are noted `StepStalled` (None: not watched).
    stalls: Stalls | None = None


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


@asynccontextmanager
async def kept_alive(heartbeat: Heartbeat, every: float, clock: Clock = SYSTEM_CLOCK) -> AsyncIterator[None]:
    """Signal `in progress` all along a command, so that a long step without a wait of its own (a Helm
    hook running for minutes) is never redelivered to a second worker while the first still runs it."""

    async def beat() -> None:
        while True:
            await clock.sleep(every)
            try:
                await heartbeat()
            except Exception as exc:  # the bus is away: redelivery is then the safe outcome anyway
                log.info("heartbeat failed", error=repr(exc))

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def process_command(body: bytes, *, attempt: int, heartbeat: Heartbeat, deps: Dependencies) -> Decision:
    """Decode the command, carry out the work it asks for, and decide what becomes of the message."""
    command = decoded(body)
    if command is None:
        return Decision(Outcome.DROP)
    if isinstance(command, StoreDegraded):
        unwanted = await _unless_repair_wanted(command, attempt=attempt, deps=deps)
        if unwanted is not None:
            return unwanted
    work = work_of(command)
    if work is None:
        return Decision(Outcome.ACK)  # not a command: nothing to do
    if (problem := invalid(work)) is not None:
        log.error("invalid command dropped", store_id=work.store_id, command=type(work).__name__, problem=problem)
        return Decision(Outcome.DROP)
    with store_context(work.store_id):
        return await carry_out(work, attempt=attempt, heartbeat=heartbeat, deps=deps)


def invalid(work: Work) -> str | None:
    """Why the command's names and ids must not reach Kubernetes or Helm (storeplane_contracts.naming),
    or None: whoever may publish on the bus is not trusted to have followed the gateway's rules."""
    name = work.name if isinstance(work, StoreRequested) else None
    return command_problem(store_id=work.store_id, owner_id=work.owner_id, namespace=work.namespace, name=name)


def decoded(body: bytes) -> Event | None:
    """The event in `body`, or None (logged) when it is none of ours."""
    try:
        return decode(body)
    except msgspec.ValidationError as exc:
        log.error("undecodable command dropped", error=str(exc))
        return None


def work_of(command: Event) -> Work | None:
    """The work a command asks for, or None for an event that is no command.

    A retry (or a drift repair) is the request once more under its own event id: steps that are
    done converge at once, the rest run again, and the timeline gets this attempt's events.
    """
    if isinstance(command, StoreRetryRequested | StoreDegraded):
        return StoreRequested(
            store_id=command.store_id,
            owner_id=command.owner_id,
            name=command.name,
            engine=command.engine,
            namespace=command.namespace,
            event_id=command.event_id,
            occurred_at=command.occurred_at,
            trace_id=command.trace_id if isinstance(command, StoreRetryRequested) else "",
        )
    if isinstance(command, StoreRequested | StoreDeletionRequested):
        return command
    return None


async def _unless_repair_wanted(event: StoreDegraded, *, attempt: int, deps: Dependencies) -> Decision | None:
    """None when the drift is to be repaired now; else what becomes of the message."""
    try:
        wanted = event.repair and await _still_degraded(event, deps)
    except Exception as exc:  # the status service did not answer: ask again later
        log.info("repair postponed", store_id=event.store_id, error=repr(exc))
        return Decision(Outcome.RETRY, backoff(attempt, deps.backoff_base, deps.backoff_cap))
    return None if wanted else Decision(Outcome.ACK)  # reported only, or deleted or repaired meanwhile


async def dispatch(work: Work, *, attempt: int, heartbeat: Heartbeat, deps: Dependencies) -> Event:
    """Run the handler of the work: provisioning for a request, deletion for a deletion."""
    if isinstance(work, StoreRequested):
        return await provision_store(
            work,
            attempt=attempt,
            cluster=deps.cluster,
            helm=deps.helm,
            publish=deps.publish,
            heartbeat=heartbeat,
            config=deps.config,
            deletion_requested=deps.deletion_requested,
            clock=deps.clock,
            stalls=deps.stalls,
        )
    return await delete_store(
        work,
        cluster=deps.cluster,
        helm=deps.helm,
        publish=deps.publish,
        heartbeat=heartbeat,
        config=deps.config,
        clock=deps.clock,
    )


async def carry_out(work: Work, *, attempt: int, heartbeat: Heartbeat, deps: Dependencies) -> Decision:
    """Dispatch the work, kept alive all along, and decide from how it ended."""
    bound = log.bind(store_id=work.store_id, command=type(work).__name__, attempt=attempt)
    try:
        async with kept_alive(heartbeat, deps.heartbeat_seconds, deps.clock):
            await dispatch(work, attempt=attempt, heartbeat=heartbeat, deps=deps)
    except Withdrawn as exc:
        bound.info("request withdrawn", reason=str(exc))
        return Decision(Outcome.ACK)
    except ProvisioningError as exc:
        return await after_failure(work, exc, attempt=attempt, deps=deps, logger=bound)
    except Exception as exc:  # the handlers name the step of every failure: this is a fault of ours
        first = PROVISIONING_STEPS[0] if isinstance(work, StoreRequested) else DELETION_STEPS[0]
        error = TemporaryError(first.name, "internal_error", repr(exc))
        return await after_failure(work, error, attempt=attempt, deps=deps, logger=bound)
    if isinstance(work, StoreRequested):
        metrics.provisioning_finished(work.engine, "ready", work.occurred_at)
    bound.info("command done")
    return Decision(Outcome.ACK)


async def after_failure(
    work: Work, error: ProvisioningError, *, attempt: int, deps: Dependencies, logger: FilteringBoundLogger
) -> Decision:
    """The retry decision: a permanent failure is reported at once; a temporary one is retried with
    backoff (and noted in the timeline) until `max_attempts`, then reported as retryable."""
    detail = {"step": error.step, "reason": error.reason, "message": error.message}
    if isinstance(error, PermanentError):
        logger.warning("command failed", **detail)
        await _report(work, error, retryable=False, deps=deps)
        return Decision(Outcome.ACK)
    if attempt >= deps.max_attempts:
        logger.warning("giving up after retries", **detail)
        await _report(work, error, retryable=True, deps=deps)
        return Decision(Outcome.ACK)
    delay = backoff(attempt, deps.backoff_base, deps.backoff_cap)
    logger.info("will retry", **detail, delay=round(delay, 1))
    await _note_retry(work, error, attempt=attempt, delay=delay, deps=deps)
    return Decision(Outcome.RETRY, delay)


async def _report(command: Work, error: ProvisioningError, *, retryable: bool, deps: Dependencies) -> None:
    metrics.FAILURES.labels(error.step, error.reason).inc()
    if isinstance(command, StoreRequested):
        metrics.provisioning_finished(command.engine, "failed", command.occurred_at)
    kind = ProvisioningFailed if isinstance(command, StoreRequested) else DeletionFailed
    failure = kind(
        store_id=command.store_id,
        owner_id=command.owner_id,
        event_id=step_id(command.event_id, "failed"),
        occurred_at=now(),
        step=error.step,
        reason=error.reason,
        message=error.message,
        retryable=retryable,
    )
    await deps.publish(failure)


async def _note_retry(
    command: Work,
    error: ProvisioningError,
    *,
    attempt: int,
    delay: float,
    deps: Dependencies,
) -> None:
    """Tell the store's timeline what holds it up and when the next attempt comes: a user watching a
    store wait (a stuck namespace, an unreachable API) sees why. The retry happens even if this fails."""
    metrics.RETRIES.labels(error.step, error.reason).inc()
    note = StepRetrying(
        store_id=command.store_id,
        owner_id=command.owner_id,
        event_id=step_id(command.event_id, f"retrying-{attempt}"),
        occurred_at=now(),
        step=error.step,
        reason=error.reason,
        message=error.message,
        attempt=attempt,
        max_attempts=deps.max_attempts,
        retry_in_seconds=round(delay, 1),
    )
    try:
        await deps.publish(note)
    except Exception as exc:  # the bus is what failed, most likely: the log keeps the note
        log.info("retry not noted in the timeline", store_id=command.store_id, error=repr(exc))


async def _still_degraded(event: StoreDegraded, deps: Dependencies) -> bool:
    """Repair only a store that is still live: never one being deleted (or deleted) meanwhile.

    `ready` counts too: the status service may not have projected the `StoreDegraded` yet.
    """
    if deps.directory is None:
        return False
    live = await deps.directory.stores_in_status(["ready", "degraded"])
    return any(store.id == event.store_id for store in live)
