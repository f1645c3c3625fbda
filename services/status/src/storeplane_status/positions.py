"""How far the projection has got in the stream, and a way to wait until it gets further.

Read-your-writes rests on this: a query that carries the stream sequence of a write
waits here (signalled after each committed projection, not polled) before it reads.
"""

from __future__ import annotations

import asyncio


class ProjectionPosition:
    """The last stream sequence this process has applied, waitable."""

    def __init__(self, sequence: int = 0) -> None:
        self._sequence = sequence
        self._moved = asyncio.Condition()

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
        """Return once `sequence` is applied; callers bound the wait with `asyncio.timeout`."""
        if self._sequence >= sequence:
            return
        async with self._moved:
            await self._moved.wait_for(lambda: self._sequence >= sequence)
