"""The per-user store quota through the API: the answer to a full quota, the name a live store keeps,
and an admin raising or lowering a user's limit. The rules themselves (reserved before publishing,
confirmed by the publish ack, released on a certain failure and on deletion, settled by the stream
once a reservation's lease is over, never exceeded by concurrent orders) are tested on the service:
test_gateway_store_service.py."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

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
