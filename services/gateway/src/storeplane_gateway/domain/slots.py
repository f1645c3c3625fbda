"""Store slots: the per-owner quota of live stores, which also holds each store's (global) name."""

from __future__ import annotations

import msgspec


class StoreSlot(msgspec.Struct, frozen=True):
    """A live store counted against its owner's quota; it also holds the store's (global) name.

    A slot is reserved before the store's request is published and confirmed once JetStream
    acknowledged it; a reservation whose lease ran out is settled by looking at the stream.
    """

    store_id: str
    owner_id: str
    name: str
