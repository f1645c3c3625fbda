"""Password hashing: only a few memory-hard hashes at once, however many logins arrive together."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Literal

from argon2 import PasswordHasher

from storeplane_gateway.areas.accounts.passwords import Passwords
from storeplane_gateway.domain.errors import PasswordHashingBusy


class CountingHasher(PasswordHasher):
    """A real (cheap) Argon2 hasher that records how many calls overlap."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)  # long enough for twenty threads to pile up if nothing holds them back
            return super().verify(hash, password)
        finally:
            with self.lock:
                self.running -= 1


async def test_a_burst_of_logins_hashes_at_most_two_at_a_time() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher, queue=18)
    stored = await passwords.hash("correct horse battery")
    results = await asyncio.gather(*(passwords.verify(stored, f"guess {n}") for n in range(20)))
    assert results == [False] * 20
    assert await passwords.verify(stored, "correct horse battery")
    assert hasher.most == 2


async def test_beyond_the_queue_a_hash_is_refused_at_once() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher, concurrency=2, queue=3)
    stored = await passwords.hash("correct horse battery")
    results = await asyncio.gather(*(passwords.verify(stored, f"guess {n}") for n in range(8)), return_exceptions=True)
    refused = [result for result in results if isinstance(result, PasswordHashingBusy)]
    assert len(refused) == 3  # two hashing, three waiting, the rest turned away
    assert results.count(False) == 5
    assert await passwords.verify(stored, "correct horse battery")  # the queue drained: served again
