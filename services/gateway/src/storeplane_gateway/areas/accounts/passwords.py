"""Password hashing with Argon2id, off the event loop.

Hashing is deliberately slow (tens of milliseconds) and memory-hard (64 MiB each), so it runs in a
worker thread and never stalls other requests, and only a few run at once: a burst of logins
queues instead of multiplying the memory until the container is killed. A login for an unknown
email still verifies against a dummy hash, so the answer takes as long as for a known one and
does not reveal which emails exist.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 8
# Argon2 accepts any length; the cap only keeps a single request from costing too much.
MAX_PASSWORD = 1024


class Passwords:
    """Hashes and checks passwords; `PasswordHasher`'s defaults follow RFC 9106."""

    def __init__(self, hasher: PasswordHasher | None = None, *, concurrency: int = 2) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None
        self._running = asyncio.Semaphore(concurrency)

    async def hash(self, password: str) -> str:
        async with self._running:
            return await asyncio.to_thread(self._hasher.hash, password)

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
            async with self._running:
                return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
