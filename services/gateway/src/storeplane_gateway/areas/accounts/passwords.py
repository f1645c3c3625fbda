"""Password hashing with Argon2id, off the event loop.

Hashing is deliberately slow (tens of milliseconds) and memory-hard (64 MiB each), so it runs in a
worker thread and never stalls other requests, and only a few run at once: a burst of logins
queues instead of multiplying the memory until the container is killed. The queue is bounded too:
when it is full a request is refused at once (`PasswordHashingBusy`, a 503 with `Retry-After`)
rather than waiting behind a flood of (perhaps spoofed) logins. A login for an unknown
email still verifies against a dummy hash, so the answer takes as long as for a known one and
does not reveal which emails exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storeplane_gateway.domain.errors import PasswordHashingBusy

T = TypeVar("T")

MIN_PASSWORD = 8
# Argon2 accepts any length; the cap only keeps a single request from costing too much.
MAX_PASSWORD = 1024


class Passwords:
    """Hashes and checks passwords; `PasswordHasher`'s defaults follow RFC 9106."""

    def __init__(self, hasher: PasswordHasher | None = None, *, concurrency: int = 2, queue: int = 16) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None
        self._running = asyncio.Semaphore(concurrency)
        self._admitted = concurrency + queue  # hashing or waiting to
        self._inside = 0

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True if `password` matches; with no hash (unknown user) it takes as long and says no."""
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("storeplane-no-such-user")
            await self._matches(self._dummy_hash, password)
            return False
        return await self._matches(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    async def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return await self._run(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        """`work(*args)` in a worker thread once a slot is free; PasswordHashingBusy if the queue is full."""
        if self._inside >= self._admitted:
            raise PasswordHashingBusy("the password-hashing queue is full")
        self._inside += 1
        try:
            async with self._running:
                return await asyncio.to_thread(work, *args)
        finally:
            self._inside -= 1
