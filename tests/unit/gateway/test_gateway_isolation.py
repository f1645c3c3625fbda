"""Tenant isolation (OWASP API1), route by route, with two users: Ada owns things, Bob tries them.

Another user's store, token or session answers exactly like one that does not exist (or is not
touched at all); Bob's own use of every route works; neither can reach admin routes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts.queries import StoreView
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import STORES, Account, assert_error, log_in, order_store, sign_up

Client = AsyncTestClient[Litestar]


@dataclass
class Tenants:
    ada: Account
    bob: Account
    adas_store: StoreView
    bobs_store: StoreView
    adas_token_id: str


@pytest.fixture
async def tenants(client: Client, fakes: Fakes) -> Tenants:
    ada = await sign_up(client, "ada@example.com")
    bob = await sign_up(client, "bob@example.com")
    adas_store = fakes.status.add_store(owner_id=ada.id, name="adas-shop")
    bobs_store = fakes.status.add_store(owner_id=bob.id, name="bobs-shop")
    token = await client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["stores:read"]}, headers=ada.headers)
    return Tenants(ada, bob, adas_store, bobs_store, token.json()["id"])


StoreCall = Callable[[Client, str, dict[str, str]], Awaitable[httpx.Response]]
STORE_ROUTES: dict[str, StoreCall] = {
    "GET /stores/{id}": lambda c, sid, h: c.get(f"{STORES}/{sid}", headers=h),
    "GET /stores/{id}/events": lambda c, sid, h: c.get(f"{STORES}/{sid}/events", headers=h),
    "GET /stores/{id}/credentials": lambda c, sid, h: c.get(f"{STORES}/{sid}/credentials", headers=h),
    "DELETE /stores/{id}": lambda c, sid, h: c.delete(f"{STORES}/{sid}", headers=h),
}


@pytest.mark.parametrize("route", sorted(STORE_ROUTES))
async def test_another_users_store_is_exactly_a_missing_one(
    client: Client, fakes: Fakes, tenants: Tenants, route: str
) -> None:
    call = STORE_ROUTES[route]
    foreign = await call(client, tenants.adas_store.id, tenants.bob.headers)
    missing_id = str(uuid.uuid4())
    missing = await call(client, missing_id, tenants.bob.headers)
    assert_error(foreign, 404, "store_not_found")
    assert_error(missing, 404, "store_not_found")
    assert foreign.json()["error"]["message"].replace(tenants.adas_store.id, "ID") == missing.json()["error"][
        "message"
    ].replace(missing_id, "ID")
    assert fakes.bus.published == [] and fakes.secrets.revealed == set()
    # Bob's own store answers the same route.
    own = await call(client, tenants.bobs_store.id, tenants.bob.headers)
    assert own.status_code in (200, 202), own.text


async def test_each_user_lists_only_their_stores(client: Client, tenants: Tenants) -> None:
    for user, store in ((tenants.ada, tenants.adas_store), (tenants.bob, tenants.bobs_store)):
        listed = (await client.get(STORES, headers=user.headers)).json()["stores"]
        assert [s["id"] for s in listed] == [store.id]
    # `all` is for admins only, so it cannot be used to widen the list.
    assert_error(await client.get(f"{STORES}?all=true", headers=tenants.bob.headers), 403, "admin_only")


async def test_orders_are_the_callers_and_quotas_are_separate(client: Client, fakes: Fakes, tenants: Tenants) -> None:
    for n in range(5):
        assert (await order_store(client, tenants.ada, f"ada-{n}")).status_code == 202
    assert_error(await order_store(client, tenants.ada, "ada-5"), 403, "store_quota_exceeded")
    assert (await order_store(client, tenants.bob, "bob-0")).status_code == 202  # Ada's use is not Bob's
    assert {event.owner_id for event in fakes.bus.published[:5]} == {tenants.ada.id}
    assert fakes.bus.published[5].owner_id == tenants.bob.id
    ada_quota = (await client.get("/api/v1/account", headers=tenants.ada.headers)).json()
    bob_quota = (await client.get("/api/v1/account", headers=tenants.bob.headers)).json()
    assert (ada_quota["user"]["id"], ada_quota["quota"]["in_use"]) == (tenants.ada.id, 5)
    assert (bob_quota["user"]["id"], bob_quota["quota"]["in_use"]) == (tenants.bob.id, 1)


async def test_tokens_are_private(client: Client, fakes: Fakes, tenants: Tenants) -> None:
    assert (await client.get("/api/v1/tokens", headers=tenants.bob.headers)).json() == {"tokens": []}
    foreign = await client.delete(f"/api/v1/tokens/{tenants.adas_token_id}", headers=tenants.bob.headers)
    missing = await client.delete(f"/api/v1/tokens/{uuid.uuid4()}", headers=tenants.bob.headers)
    assert_error(foreign, 404, "token_not_found")
    assert_error(missing, 404, "token_not_found")
    assert tenants.adas_token_id in fakes.api_tokens.rows
    [listed] = (await client.get("/api/v1/tokens", headers=tenants.ada.headers)).json()["tokens"]
    assert listed["id"] == tenants.adas_token_id
    created = await client.post(
        "/api/v1/tokens", json={"name": "ci", "scopes": ["stores:read"]}, headers=tenants.bob.headers
    )
    assert created.status_code == 201  # the same name is Bob's to use


async def test_a_users_token_reaches_only_their_stores(client: Client, tenants: Tenants) -> None:
    bobs_token = await client.post(
        "/api/v1/tokens", json={"name": "ci", "scopes": ["stores:read", "stores:write"]}, headers=tenants.bob.headers
    )
    headers = {"Authorization": f"Bearer {bobs_token.json()['token']}"}
    assert_error(await client.get(f"{STORES}/{tenants.adas_store.id}", headers=headers), 404, "store_not_found")
    assert_error(await client.delete(f"{STORES}/{tenants.adas_store.id}", headers=headers), 404, "store_not_found")
    assert [s["id"] for s in (await client.get(STORES, headers=headers)).json()["stores"]] == [tenants.bobs_store.id]


async def test_sessions_end_for_their_user_only(client: Client, tenants: Tenants) -> None:
    bob_again = await log_in(client, "bob@example.com")
    assert (await client.post("/api/v1/auth/logout", headers=tenants.bob.headers)).status_code == 204
    assert (await client.post("/api/v1/auth/logout-all", headers=bob_again.headers)).status_code == 204
    assert (await client.get(STORES, headers=tenants.ada.headers)).status_code == 200
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tenants.ada.refresh_token})
    assert refreshed.status_code == 200
    # Bob's refresh token cannot renew Ada's session, nor his own ended one.
    assert_error(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tenants.bob.refresh_token}),
        401,
        "invalid_refresh_token",
    )


async def test_admin_routes_are_closed_to_both(client: Client, tenants: Tenants) -> None:
    for user, other in ((tenants.ada, tenants.bob), (tenants.bob, tenants.ada)):
        for response in (
            await client.get("/api/v1/admin/users", params={"email": other.email}, headers=user.headers),
            await client.get(f"/api/v1/admin/users/{other.id}/quota", headers=user.headers),
            await client.put(f"/api/v1/admin/users/{user.id}/quota", json={"store_limit": 99}, headers=user.headers),
            await client.get("/api/v1/admin/audit", headers=user.headers),
        ):
            assert_error(response, 403, "admin_only")


async def test_credentials_go_to_their_owner_only(client: Client, fakes: Fakes, tenants: Tenants) -> None:
    path = f"{STORES}/{tenants.adas_store.id}/credentials"
    assert_error(await client.get(path, headers=tenants.bob.headers), 404, "store_not_found")
    assert (await client.get(path, headers=tenants.ada.headers)).status_code == 200
    assert fakes.secrets.revealed == {tenants.adas_store.id}
