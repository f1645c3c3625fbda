"""What happens when a store event arrives: project it, then let waiting queries know.

The handler sees the read models only through `ProjectionStore`, so tests can hand it a
fake; the subscriber decides what its outcome (or its exception) means for the message.
"""

from __future__ import annotations

from typing import Protocol

from storeplane_contracts.events import AnyEvent
from storeplane_status.positions import ProjectionPosition
from storeplane_status.projections import Applied


class ProjectionStore(Protocol):
    """Where the projection writes: read models and tracking position, atomically."""

    async def apply(self, consumer: str, sequence: int, event: AnyEvent) -> Applied: ...

    async def skip(self, consumer: str, sequence: int) -> None: ...


async def apply_store_event(
    event: AnyEvent, sequence: int, *, consumer: str, store: ProjectionStore, position: ProjectionPosition
) -> Applied:
    """Project `event` (stream `sequence`) once; a redelivery or a repeated event changes nothing."""
    applied = await store.apply(consumer, sequence, event)
    await position.advance(sequence)
    return applied


async def skip_message(sequence: int, *, consumer: str, store: ProjectionStore, position: ProjectionPosition) -> None:
    """Record that the message at `sequence` will never be applied (it cannot be decoded)."""
    await store.skip(consumer, sequence)
    await position.advance(sequence)
