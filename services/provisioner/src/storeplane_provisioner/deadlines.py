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
from contextvars import ContextVar
from typing import get_args

from storeplane_contracts.events import FailureStep
from storeplane_provisioner.errors import PermanentError, ProvisioningError, StepTimedOut, TemporaryError

STEPS: tuple[FailureStep, ...] = get_args(FailureStep)

# Seconds each step may take: guard rails are a few API calls; a chart and its readiness wait for
# images, volumes and set-up Jobs. Settings override any of them (STOREPLANE_STEP_DEADLINES).
DEFAULT_STEP_SECONDS: Mapping[FailureStep, float] = {
    "namespace": 60.0,
    "quota": 60.0,
    "limits": 60.0,
    "network_policy": 60.0,
    "credentials": 60.0,
    "chart": 600.0,
    "readiness": 600.0,
    "uninstall": 300.0,
    "namespace_deletion": 300.0,
}
# Waits that watch the deadline themselves, to say what is late (workloads not ready, what holds a
# namespace back), are given this long to report before the timer cancels them.
WATCHING_THEIR_DEADLINE: frozenset[FailureStep] = frozenset({"readiness", "namespace_deletion"})
GRACE_SECONDS = 5.0
# The step a command entered last: a fault between steps (publishing a step's event) is blamed on it.
current_step: ContextVar[FailureStep | None] = ContextVar("current_step", default=None)


def step_seconds(overrides: Mapping[str, float]) -> dict[FailureStep, float]:
    """The defaults with `overrides` applied; an unknown step or a deadline that is not positive is refused."""
    unknown = sorted(set(overrides) - set(DEFAULT_STEP_SECONDS))
    if unknown:
        raise ValueError(f"no such step {unknown}; steps with a deadline: {', '.join(DEFAULT_STEP_SECONDS)}")
    if not_positive := sorted(step for step, seconds in overrides.items() if not seconds > 0):
        raise ValueError(f"step deadlines must be positive seconds: {not_positive}")
    return {**DEFAULT_STEP_SECONDS, **{step: overrides[step] for step in STEPS if step in overrides}}


@asynccontextmanager
async def bounded(step: FailureStep, seconds: float, overall: float = math.inf) -> AsyncIterator[float]:
    """Run one step for at most `seconds`, and never past `overall` (a wall-clock timestamp).

    Yields the step's deadline (a wall-clock timestamp) for waits that watch it themselves.
    """
    current_step.set(step)
    deadline = min(time.time() + seconds, overall)
    grace = GRACE_SECONDS if step in WATCHING_THEIR_DEADLINE else 0.0
    timer = asyncio.timeout(max(0.0, deadline - time.time()) + grace)
    try:
        async with timer:
            yield deadline
    except TimeoutError:
        if not timer.expired():
            raise  # a timeout of something inside the step, which reports it itself
        late = StepTimedOut(step, "timeout", f"step {step} did not finish within {seconds:g}s")
        raise _final(late, overall) from None
    except StepTimedOut as exc:
        raise _final(exc, overall) from None
    except ProvisioningError:
        raise
    except Exception as exc:  # a fault of ours or of a library: retried, and blamed on the step it hit
        raise TemporaryError(step, "internal_error", f"unexpected error in step {step}: {exc!r}") from exc


def _final(late: StepTimedOut, overall: float) -> StepTimedOut | PermanentError:
    if time.time() < overall:
        return late
    return PermanentError(late.step, "timeout", f"{late.message}; the provisioning's deadline has passed")
