"""The per-user store quota: reserved before publishing, released on failure and on deletion,
never exceeded by concurrent orders, raised or lowered per user by an admin."""

from __future__ import annotations

import asyncio

from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts.events import StoreDeleted, StoreRequested
from storeplane_gateway.app import create_app
from storeplane_gateway.releasing import release_deleted_store
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import ADMIN_EMAIL, assert_error, order_store, sign_up


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
    root = await sign_up(client, ADMIN_EMAIL)
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


async def test_quota_changes_are_checked(client: AsyncTestClient[Litestar]) -> None:
    root = await sign_up(client, ADMIN_EMAIL)
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
