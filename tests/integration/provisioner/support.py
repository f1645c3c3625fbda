"""Helpers for provisioner tests: read a store's events back from JetStream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from storeplane_contracts import events


async def events_of(
    nats_url: str, store_id: str, until: type[events.Event], timeout: float = 120
) -> list[events.AnyEvent]:
    """Every event of one store, in stream order, up to and including the first `until` (or failure)."""
    finished = (until, events.ProvisioningFailed, events.DeletionFailed)
    return await events_until(nats_url, store_id, lambda event: isinstance(event, finished), timeout)


async def events_until(
    nats_url: str, store_id: str, done: Callable[[events.AnyEvent], bool], timeout: float = 120
) -> list[events.AnyEvent]:
    """Every event of one store, in stream order, up to and including the first that is `done`."""
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().subscribe(
            f"stores.{store_id}.*", ordered_consumer=True, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        seen: list[events.AnyEvent] = []
        async with asyncio.timeout(timeout):
            async for msg in sub.messages:
                seen.append(events.decode(msg.data))
                if done(seen[-1]):
                    return seen
    finally:
        await nc.close()
    raise AssertionError("unreachable")
