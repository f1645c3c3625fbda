"""The per-user store quota: reserved before publishing, confirmed by the publish ack, released on a
certain failure and on deletion, settled by the stream once a reservation's lease is over, never
exceeded by concurrent orders, raised or lowered per user by an admin."""

from __future__ import annotations

import asyncio

from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts.events import StoreDeleted, StoreRequested
from storeplane_gateway.app import create_app
from storeplane_gateway.releasing import release_deleted_store
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import assert_error, order_store, sign_up, sign_up_admin


async def test_the_default_limit_refuses_the_sixth_store_saying_limit_and_use(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    for n in range(5):
        assert (await order_store(client, ada, f"shop-{n}")).status_code == 202
    refused = await order_store(client, ada, "shop-5")
    message = assert_error(refused, 403, "store_quota_exceeded")
    assert "limit 5, in use 5" in message
    assert len(fakes.bus.published) == 5
    account = await client.get("/api/v1/account", headers=ada.headers)
    assert account.json() == {
        "user": {"id": ada.id, "email": ada.email, "role": "user"},
        "quota": {"limit": 5, "in_use": 5},
    }


async def test_concurrent_orders_cannot_exceed_the_limit(fakes: Fakes) -> None:
    settings = GatewaySettings(max_stores_per_user=5, store_creates_per_minute_per_user=0)
    async with AsyncTestClient(app=create_app(settings, adapters=fakes.factory())) as client:
        ada = await sign_up(client)
        responses = await asyncio.gather(*(order_store(client, ada, f"shop-{n}") for n in range(10)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [202] * 5 + [403] * 5
    assert len(fakes.slots.slots) == len(fakes.bus.published) == 5


async def test_concurrent_orders_for_one_name_make_one_store(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    bob = await sign_up(client, "bob@example.com")
    responses = await asyncio.gather(*(order_store(client, user, "shop-one") for user in (ada, bob, ada, bob)))
    assert sorted(r.status_code for r in responses) == [202, 409, 409, 409]
    assert len(fakes.bus.published) == 1


async def test_a_request_the_bus_refuses_frees_its_slot(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    fakes.bus.connected = False
    assert_error(await order_store(client, ada, "shop-one"), 503, "bus_unavailable")
    assert fakes.slots.slots == {}
    fakes.bus.connected = True
    assert (await order_store(client, ada, "shop-one")).status_code == 202


async def test_an_acknowledged_order_confirms_its_slot(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    created = (await order_store(client, ada, "shop-one")).json()
    assert created["id"] in fakes.slots.slots and fakes.slots.reserved == {}  # confirmed, not a reservation


async def test_a_lost_ack_keeps_the_slot_reserved_until_the_stream_says(
    client: AsyncTestClient[Litestar], fakes: Fakes, settings: GatewaySettings
) -> None:
    """The event may be stored though its ack was lost: giving the slot back would let a store exist without one."""
    ada = await sign_up(client)
    bob = await sign_up(client, "bob@example.com")
    await fakes.users.set_store_limit(ada.id, 1)
    fakes.bus.ack_timeout = "stored"
    lost = await order_store(client, ada, "shop-one")
    assert "may have been accepted" in assert_error(lost, 503, "bus_unavailable")
    [stored] = fakes.bus.published
    assert stored.store_id in fakes.slots.reserved  # still held
    fakes.bus.ack_timeout = None
    assert_error(await order_store(client, ada, "shop-two"), 403, "store_quota_exceeded")
    assert_error(await order_store(client, bob, "shop-one"), 409, "name_taken")

    # Once its lease is over the stream is asked: the request is there, so the slot is the store's.
    fakes.clock += settings.slot_lease_seconds
    assert "limit 1, in use 1" in assert_error(await order_store(client, ada, "shop-two"), 403, "store_quota_exceeded")
    assert stored.store_id in fakes.slots.slots and fakes.slots.reserved == {}
    assert_error(await order_store(client, bob, "shop-one"), 409, "name_taken")


async def test_a_reservation_whose_request_never_reached_the_stream_is_freed_after_its_lease(
    client: AsyncTestClient[Litestar], fakes: Fakes, settings: GatewaySettings
) -> None:
    ada = await sign_up(client)
    bob = await sign_up(client, "bob@example.com")
    await fakes.users.set_store_limit(ada.id, 1)
    fakes.bus.ack_timeout = "lost"  # as good as a gateway dying between the reservation and the publish
    assert_error(await order_store(client, ada, "shop-one"), 503, "bus_unavailable")
    assert fakes.bus.published == [] and len(fakes.slots.reserved) == 1
    fakes.bus.ack_timeout = None
    fakes.clock += settings.slot_lease_seconds - 1
    assert_error(await order_store(client, ada, "shop-two"), 403, "store_quota_exceeded")  # within its lease

    fakes.clock += 1
    assert (await order_store(client, bob, "shop-one")).status_code == 202  # the name is free
    assert (await order_store(client, ada, "shop-two")).status_code == 202  # and so is Ada's quota
    assert sorted(event.name for event in fakes.bus.published if isinstance(event, StoreRequested)) == [
        "shop-one",
        "shop-two",
    ]
    assert fakes.slots.reserved == {}


async def test_a_deleted_store_frees_its_slot_and_name(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    created = (await order_store(client, ada, "shop-one")).json()
    event = StoreDeleted(store_id=created["id"], owner_id=ada.id, namespace=created["namespace"])
    assert await release_deleted_store(event, slots=fakes.slots)
    assert not await release_deleted_store(event, slots=fakes.slots)  # a redelivery changes nothing
    assert fakes.slots.slots == {}


async def test_slots_of_stores_already_deleted_are_freed_when_in_the_way(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    """StoreDeleted may not have reached the gateway yet: the status service's word frees the slot."""
    ada = await sign_up(client)
    bob = await sign_up(client, "bob@example.com")
    for n in range(5):
        assert (await order_store(client, ada, f"shop-{n}")).status_code == 202
    requested = [event for event in fakes.bus.published if isinstance(event, StoreRequested)]
    for event in requested:
        fakes.status.add_store(owner_id=ada.id, name=event.name, status="ready", store_id=event.store_id)

    fakes.status.set_status(requested[0].store_id, "deleted")
    assert (await order_store(client, ada, "shop-new")).status_code == 202  # the quota had room after all
    assert_error(await order_store(client, ada, "shop-newer"), 403, "store_quota_exceeded")

    fakes.status.set_status(requested[1].store_id, "deleted")
    assert (await order_store(client, bob, requested[1].name)).status_code == 202  # and the name is free
    assert requested[1].store_id not in fakes.slots.slots


async def test_a_live_store_keeps_its_name_from_everyone(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    bob = await sign_up(client, "bob@example.com")
    assert (await order_store(client, ada, "shop-one")).status_code == 202
    assert "shop-one" in assert_error(await order_store(client, bob, "Shop One"), 409, "name_taken")
    assert_error(await order_store(client, ada, "shop-one"), 409, "name_taken")


async def test_an_admin_sets_a_users_own_limit(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    ada = await sign_up(client)
    quota = f"/api/v1/admin/users/{ada.id}/quota"

    raised = await client.put(quota, json={"store_limit": 6}, headers=root.headers)
    assert raised.status_code == 200, raised.text
    assert raised.json() == {"user_id": ada.id, "email": ada.email, "limit": 6, "override": 6, "in_use": 0}
    for n in range(6):
        assert (await order_store(client, ada, f"shop-{n}")).status_code == 202
    assert "limit 6, in use 6" in assert_error(await order_store(client, ada, "shop-6"), 403, "store_quota_exceeded")

    lowered = await client.put(quota, json={"store_limit": 0}, headers=root.headers)
    assert lowered.json()["limit"] == 0 and lowered.json()["in_use"] == 6
    back = await client.put(quota, json={"store_limit": None}, headers=root.headers)
    assert back.json() == {"user_id": ada.id, "email": ada.email, "limit": 5, "override": None, "in_use": 6}
    read = await client.get(quota, headers=root.headers)
    assert read.json() == back.json()


async def test_quota_changes_are_checked(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    ada = await sign_up(client)
    quota = f"/api/v1/admin/users/{ada.id}/quota"
    assert_error(await client.put(quota, json={"store_limit": -1}, headers=root.headers), 422, "invalid_quota")
    assert_error(await client.put(quota, json={"store_limit": 10_000}, headers=root.headers), 422, "invalid_quota")
    assert_error(await client.put(quota, json={"store_limit": "9"}, headers=root.headers), 400, "invalid_body")
    assert_error(await client.put(quota, json={"limit": 9}, headers=root.headers), 400, "invalid_body")
    missing = "/api/v1/admin/users/5d1c7c55-0d8e-4d0a-8a53-3c8a3f3e8b6e/quota"
    assert_error(await client.put(missing, json={"store_limit": 1}, headers=root.headers), 404, "user_not_found")
    assert_error(await client.get("/api/v1/admin/users/nope/quota", headers=root.headers), 404, "user_not_found")
    assert_error(await client.put(quota, json={"store_limit": 9}, headers=ada.headers), 403, "admin_only")
