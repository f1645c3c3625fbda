"""Per-user store quota: reserving a slot (and with it the store's name) for a new store.

How many live stores a user may have is `domain.users.limit_of`. A store holds a slot from the
moment it is ordered until the gateway learns from the bus that it is deleted
(`adapters/nats/subscribers.py`); the slot also holds the store's name, which is global. The slot is a
reservation until JetStream acknowledges the store's request, then confirmed; a request that
certainly did not reach the stream gives it back at once. Two things are settled when a
reservation is refused, since only then do they stand in anyone's way:

- reservations older than their lease (the gateway died before it knew, or the ack was lost):
  confirmed if the stream holds the store's `StoreRequested`, released otherwise;
- slots of stores already deleted, should the news from the bus be late (the gateway was down, or
  a client orders again the instant its old store is gone): the status service is asked.
"""

from __future__ import annotations

import structlog

from storeplane_contracts.events import StoreRequested
from storeplane_contracts.subjects import subject_of
from storeplane_gateway.domain.errors import NameTaken, QuotaExceeded
from storeplane_gateway.domain.slots import StoreSlot
from storeplane_gateway.ports import Bus, StatusQueries, StoreSlots

log = structlog.get_logger(__name__)


async def reserve_slot(
    slot: StoreSlot, *, limit: int, slots: StoreSlots, status: StatusQueries, bus: Bus, lease: float
) -> None:
    """Hold a slot (reserved) for the store, or refuse with NameTaken or QuotaExceeded.

    A refusal first settles what may stand in the way without reason (expired reservations, slots
    of stores already deleted); if that freed something, the reservation is tried once more."""
    try:
        await slots.reserve(slot, limit=limit)
        return
    except NameTaken as taken:
        holder = taken.holder
        freed = holder.store_id in await settle_reservations(holder.owner_id, slots=slots, bus=bus, lease=lease)
        if not freed and not await _release_if_deleted(holder, slots=slots, status=status):
            raise
    except QuotaExceeded:
        freed = bool(await settle_reservations(slot.owner_id, slots=slots, bus=bus, lease=lease))
        if not freed and not await _release_deleted_of(slot.owner_id, slots=slots, status=status):
            raise
    await slots.reserve(slot, limit=limit)


async def settle_reservations(owner_id: str, *, slots: StoreSlots, bus: Bus, lease: float) -> list[str]:
    """Decide the owner's reservations older than `lease` by the stream: a store whose `StoreRequested` is
    there keeps its slot (confirmed), any other is released. Returns the store ids released."""
    released = []
    for reservation in await slots.expired_reservations(owner_id, lease=lease):
        if await bus.holds(subject_of(reservation.store_id, StoreRequested)):
            await slots.confirm(reservation.store_id)
            log.info("slots.reservation_confirmed", store_id=reservation.store_id, owner_id=owner_id)
        elif await slots.release(reservation.store_id):
            released.append(reservation.store_id)
            log.info("slots.reservation_released", store_id=reservation.store_id, owner_id=owner_id)
    return released


async def _release_if_deleted(holder: StoreSlot, *, slots: StoreSlots, status: StatusQueries) -> bool:
    store = await status.get_store(holder.store_id, holder.owner_id)
    return store is not None and store.status == "deleted" and await slots.release(holder.store_id)


async def _release_deleted_of(owner_id: str, *, slots: StoreSlots, status: StatusQueries) -> bool:
    held = {slot.store_id for slot in await slots.of_owner(owner_id)}
    stores = await status.list_stores(owner_id, include_deleted=True)
    released = [await slots.release(s.id) for s in stores if s.status == "deleted" and s.id in held]
    return any(released)
