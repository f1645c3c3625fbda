"""Deadlines: every step has its own, and the provisioning as a whole has one counted from the request.

A step past its own deadline is a temporary failure (another attempt may finish it); a step that
runs into the overall deadline fails the store, naming the step that was late.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import get_args

from storeplane_contracts.events import FailureStep
from storeplane_provisioner.errors import PermanentError, ProvisioningError, StepTimedOut, TemporaryError
from storeplane_provisioner.ports import Clock
from storeplane_provisioner.provisioning.steps import DEFAULT_STEP_SECONDS, WATCHING_THEIR_DEADLINE

STEPS: tuple[FailureStep, ...] = get_args(FailureStep)
# How long past its deadline a wait that watches it (see `Step.watches_deadline`) may take to report.
GRACE_SECONDS = 5.0


class SystemClock:
    """The `Clock` of a running provisioner: the system's wall clock and asyncio's timers."""

    def time(self) -> float:
        return time.time()

    def timeout_at(self, when: float) -> asyncio.Timeout:
        return asyncio.timeout(max(0.0, when - time.time()))

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


def step_seconds(overrides: Mapping[str, float]) -> dict[FailureStep, float]:
    """The defaults with `overrides` applied; an unknown step or a deadline that is not positive is refused."""
    unknown = sorted(set(overrides) - set(DEFAULT_STEP_SECONDS))
    if unknown:
        raise ValueError(f"no such step {unknown}; steps with a deadline: {', '.join(DEFAULT_STEP_SECONDS)}")
    if not_positive := sorted(step for step, seconds in overrides.items() if not seconds > 0):
        raise ValueError(f"step deadlines must be positive seconds: {not_positive}")
    return {**DEFAULT_STEP_SECONDS, **{step: overrides[step] for step in STEPS if step in overrides}}


@asynccontextmanager
async def bounded(
    step: FailureStep, seconds: float, overall: float = math.inf, *, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[float]:
    """Run one step for at most `seconds`, and never past `overall` (a wall-clock timestamp).

    Yields the step's deadline (a wall-clock timestamp) for waits that watch it themselves.
    """
    started = clock.time()
    deadline = min(started + seconds, overall)
    grace = GRACE_SECONDS if step in WATCHING_THEIR_DEADLINE else 0.0
    timer = clock.timeout_at(max(deadline, started) + grace)
    try:
        async with timer:
            yield deadline
    except TimeoutError:
        if not timer.expired():
            raise  # a timeout of something inside the step, which reports it itself
        late = StepTimedOut(step, "timeout", f"step {step} did not finish within {seconds:g}s")
        raise _final(late, overall, clock) from None
    except StepTimedOut as exc:
        raise _final(exc, overall, clock) from None
    except ProvisioningError:
        raise
    except Exception as exc:  # a fault of ours or of a library: retried, and blamed on the step it hit
        raise TemporaryError(step, "internal_error", f"unexpected error in step {step}: {exc!r}") from exc


def _final(late: StepTimedOut, overall: float, clock: Clock) -> StepTimedOut | PermanentError:
    if clock.time() < overall:
        return late
    return PermanentError(late.step, "timeout", f"{late.message}; the provisioning's deadline has passed")
