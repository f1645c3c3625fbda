"""From one delivered command to its outcome on the bus: done, retry later, or failed.

This is where errors decide retries: a temporary failure is retried with backoff until
`max_attempts`, then reported; a permanent one is reported at once. Every path ends in an
ack only after the final event is published, or in a nak, so no request is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum

import msgspec
import structlog

from storeplane_contracts.events import (
    DeletionFailed,
    FailureStep,
    ProvisioningFailed,
    StepRetrying,
    StoreDegraded,
    StoreDeletionRequested,
    StoreRequested,
    StoreRetryRequested,
    decode,
    now,
)
from storeplane_provisioner.deadlines import current_step
from storeplane_provisioner.errors import PermanentError, ProvisioningError, TemporaryError, Withdrawn
from storeplane_provisioner.handlers import Provisioning, delete_store, provision_store, step_id
from storeplane_provisioner.ports import Cluster, DeletionRequested, Heartbeat, Helm, Publish, StoreDirectory

log = structlog.get_logger("storeplane.provisioner")


class Outcome(Enum):
    """What to tell JetStream about the message."""

    ACK = "ack"
    RETRY = "retry"
    DROP = "drop"  # undecodable: terminate, redelivery cannot help


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


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


@asynccontextmanager
async def kept_alive(heartbeat: Heartbeat, every: float) -> AsyncIterator[None]:
    """Signal `in progress` all along a command, so that a long step without a wait of its own (a Helm
    hook running for minutes) is never redelivered to a second worker while the first still runs it."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
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
    try:
        command = decode(body)
    except msgspec.ValidationError as exc:
        log.error("undecodable command dropped", error=str(exc))
        return Decision(Outcome.DROP)
    run: Callable[[], Awaitable[object]]
    if isinstance(command, StoreDegraded):
        try:
            wanted = command.repair and await _still_degraded(command, deps)
        except Exception as exc:  # the status service did not answer: ask again later
            log.info("repair postponed", store_id=command.store_id, error=repr(exc))
            return Decision(Outcome.RETRY, backoff(attempt, deps.backoff_base, deps.backoff_cap))
        if not wanted:
            return Decision(Outcome.ACK)  # reported only, or deleted or repaired meanwhile
    if isinstance(command, StoreRetryRequested | StoreDegraded):
        # A retry (or a drift repair) is the request once more under its own event id: steps that
        # are done converge at once, the rest run again, and the timeline gets this attempt's events.
        command = StoreRequested(
            store_id=command.store_id,
            owner_id=command.owner_id,
            name=command.name,
            engine=command.engine,
            namespace=command.namespace,
            event_id=command.event_id,
            occurred_at=command.occurred_at,
            trace_id=command.trace_id if isinstance(command, StoreRetryRequested) else "",
        )
    if isinstance(command, StoreRequested):

        async def run() -> object:
            return await provision_store(
                command,
                attempt=attempt,
                cluster=deps.cluster,
                helm=deps.helm,
                publish=deps.publish,
                heartbeat=heartbeat,
                config=deps.config,
                deletion_requested=deps.deletion_requested,
            )
    elif isinstance(command, StoreDeletionRequested):

        async def run() -> object:
            return await delete_store(
                command,
                cluster=deps.cluster,
                helm=deps.helm,
                publish=deps.publish,
                heartbeat=heartbeat,
                config=deps.config,
            )
    else:
        return Decision(Outcome.ACK)  # not a command: nothing to do

    bound = log.bind(store_id=command.store_id, command=type(command).__name__, attempt=attempt)
    # Before any step has begun, a fault is blamed on the first one.
    current_step.set("namespace" if isinstance(command, StoreRequested) else "uninstall")
    try:
        async with kept_alive(heartbeat, deps.heartbeat_seconds):
            await run()
    except Withdrawn as exc:
        bound.info("request withdrawn", reason=str(exc))
        return Decision(Outcome.ACK)
    except PermanentError as exc:
        bound.warning("command failed", step=exc.step, reason=exc.reason, message=exc.message)
        await _report(command, exc, retryable=False, deps=deps)
        return Decision(Outcome.ACK)
    except Exception as exc:
        # Faults inside a step are already blamed on it (deadlines.bounded); between steps, on the last one.
        error = exc if isinstance(exc, TemporaryError) else TemporaryError(_last_step(), "internal_error", repr(exc))
        if attempt >= deps.max_attempts:
            bound.warning("giving up after retries", step=error.step, reason=error.reason, message=error.message)
            await _report(command, error, retryable=True, deps=deps)
            return Decision(Outcome.ACK)
        delay = backoff(attempt, deps.backoff_base, deps.backoff_cap)
        bound.info("will retry", step=error.step, reason=error.reason, message=error.message, delay=round(delay, 1))
        await _note_retry(command, error, attempt=attempt, delay=delay, deps=deps)
        return Decision(Outcome.RETRY, delay)
    bound.info("command done")
    return Decision(Outcome.ACK)


def _last_step() -> FailureStep:
    step = current_step.get()
    assert step is not None  # set before the command ran
    return step


async def _report(
    command: StoreRequested | StoreDeletionRequested, error: ProvisioningError, *, retryable: bool, deps: Dependencies
) -> None:
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
    command: StoreRequested | StoreDeletionRequested,
    error: ProvisioningError,
    *,
    attempt: int,
    delay: float,
    deps: Dependencies,
) -> None:
    """Tell the store's timeline what holds it up and when the next attempt comes: a user watching a
    store wait (a stuck namespace, an unreachable API) sees why. The retry happens even if this fails."""
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
