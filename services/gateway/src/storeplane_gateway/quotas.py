"""Per-user store quota: how many live stores a user may have, and reserving a slot for a new one.

A store holds a slot from the moment it is ordered until the gateway learns from the bus that it
is deleted (`releasing.py`); the slot also holds the store's name, which is global. The slot is a
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
from storeplane_gateway.errors import ApiError
from storeplane_gateway.ports import (
    Bus,
    NameTaken,
    QuotaExceeded,
    StatusQueries,
    StoredUser,
    StoreSlot,
    StoreSlots,
    Users,
)

log = structlog.get_logger(__name__)


def limit_of(user: StoredUser | None, default: int) -> int:
    """The user's own limit if an admin set one, else the platform's."""
    return user.store_limit if user is not None and user.store_limit is not None else default


async def store_limit(users: Users, user_id: str, default: int) -> int:
    return limit_of(await users.by_id(user_id), default)


def name_taken(name: str) -> ApiError:
    return ApiError(409, "name_taken", f"a store named {name!r} already exists; choose another name")


def quota_exceeded(exc: QuotaExceeded) -> ApiError:
    return ApiError(
        403,
        "store_quota_exceeded",
        f"you have as many live stores as you may (limit {exc.limit}, in use {exc.in_use}); "
        "delete one first, or ask an admin for a higher limit",
    )


async def reserve_slot(
    slot: StoreSlot, *, limit: int, slots: StoreSlots, status: StatusQueries, bus: Bus, lease: float
) -> None:
    """Hold a slot (reserved) for the store or refuse: 409 `name_taken`, 403 `store_quota_exceeded`."""
    try:
        await slots.reserve(slot, limit=limit)
        return
    except NameTaken as taken:
        holder = taken.holder
        freed = holder.store_id in await settle_reservations(holder.owner_id, slots=slots, bus=bus, lease=lease)
        if not freed and not await _release_if_deleted(holder, slots=slots, status=status):
            raise name_taken(slot.name) from None
    except QuotaExceeded as exceeded:
        freed = bool(await settle_reservations(slot.owner_id, slots=slots, bus=bus, lease=lease))
        if not freed and not await _release_deleted_of(slot.owner_id, slots=slots, status=status):
            raise quota_exceeded(exceeded) from None
    try:
        await slots.reserve(slot, limit=limit)
    except NameTaken:
        raise name_taken(slot.name) from None
    except QuotaExceeded as exceeded:
        raise quota_exceeded(exceeded) from None


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
