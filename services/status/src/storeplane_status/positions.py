"""How far the projection has got in the stream, and a way to wait until it gets further.

Read-your-writes rests on this: a query that carries the stream sequence of a write
waits here (signalled after each committed projection, not polled) before it reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

# What bounds a wait of so many seconds: `asyncio.timeout` in the service; tests pass a clock
# they move by hand, so that a wait expires when they say and not after real time.
Timer = Callable[[float], AbstractAsyncContextManager[object]]


class ProjectionPosition:
    """The last stream sequence this process has applied, waitable."""

    def __init__(self, sequence: int = 0, *, timer: Timer = asyncio.timeout) -> None:
        self._sequence = sequence
        self._moved = asyncio.Condition()
        self._timer = timer

    @property
    def sequence(self) -> int:
        return self._sequence

    async def advance(self, sequence: int) -> None:
        """Record that everything up to `sequence` is applied and wake the waiters."""
        async with self._moved:
            if sequence > self._sequence:
                self._sequence = sequence
                self._moved.notify_all()

    async def reach(self, sequence: int) -> None:
        """Return once `sequence` is applied; `reached_within` bounds the wait."""
        if self._sequence >= sequence:
            return
        async with self._moved:
            await self._moved.wait_for(lambda: self._sequence >= sequence)

    async def reached_within(self, sequence: int, wait: float) -> bool:
        """Wait up to `wait` seconds for `sequence` to be applied; say whether it was."""
        try:
            async with self._timer(wait):
                await self.reach(sequence)
        except TimeoutError:
            return False
        return True
