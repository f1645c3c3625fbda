"""The delivery policy as pure rules: what an answer means, when to try again, when to give up.

A 2xx is success; anything else, a 3xx included (redirects are never followed), is a failure;
`410 Gone` disables the endpoint at once. After the n-th failed attempt the message waits the
n-th entry of the retry schedule (stretched by jitter, or longer when the answer's `Retry-After`
asks for more); one failure more than the schedule has entries exhausts it. An endpoint failing
for `disable_after` without a single success is disabled.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

GONE = 410
# A Retry-After beyond this is not honoured as asked (the schedule's own longest wait is 10 h).
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0


class Outcome(enum.Enum):
    """How one attempt ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    GONE = "gone"  # 410: the receiver says the endpoint no longer exists


def outcome_of(status_code: int | None) -> Outcome:
    """What an HTTP status (None: no answer at all) means."""
    if status_code is not None and 200 <= status_code < 300:
        return Outcome.SUCCEEDED
    if status_code == GONE:
        return Outcome.GONE
    return Outcome.FAILED


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A `Retry-After` header's wait, in seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


@dataclasses.dataclass(frozen=True)
class RetrySchedule:
    """Waits after each failed attempt, with jitter."""

    waits: Sequence[float]
    jitter: float = 0.1
    rand: Callable[[], float] = random.random

    def next_wait(self, failed_attempts: int, retry_after: float | None = None) -> float | None:
        """Seconds until the next attempt after `failed_attempts` failures; None: exhausted."""
        if failed_attempts < 1 or failed_attempts > len(self.waits):
            return None
        base = self.waits[failed_attempts - 1]
        wait = base * (1 + self.jitter * (2 * self.rand() - 1))
        if retry_after is not None:
            wait = max(wait, retry_after)
        return max(wait, 0.0)


def failing_too_long(failing_since: datetime | None, now: datetime, disable_after: timedelta) -> bool:
    """Whether an endpoint without a success since `failing_since` is to be disabled."""
    return failing_since is not None and now - failing_since >= disable_after
