"""API tokens: shown once, stored hashed, limited to their scopes, revocable, never admins."""

from __future__ import annotations

import hashlib

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import STORES, Account, assert_error, order_store, sign_up, sign_up_admin

TOKENS = "/api/v1/tokens"


async def make_token(client: AsyncTestClient[Litestar], owner: Account, name: str, scopes: list[str]) -> Account:
    """An API token of `owner`, as an Account whose headers use it."""
    response = await client.post(TOKENS, json={"name": name, "scopes": scopes}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return Account(id=owner.id, email=owner.email, token=response.json()["token"])


async def test_a_token_is_shown_once_and_stored_as_a_hash(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    response = await client.post(
        TOKENS, json={"name": " ci deploys ", "scopes": ["stores:write", "stores:read"]}, headers=ada.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    secret = body["token"]
    assert secret.startswith("sp_") and len(secret) >= 40
    assert body["name"] == "ci deploys"
    assert body["scopes"] == ["stores:read", "stores:write"]
    assert secret.startswith(body["prefix"]) and len(body["prefix"]) == 10
    assert response.headers["location"] == f"{TOKENS}/{body['id']}"
    assert response.headers["cache-control"] == "no-store"

    [(stored, stored_hash)] = fakes.api_tokens.rows.values()
    assert stored_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(stored)

    listing = await client.get(TOKENS, headers=ada.headers)
    assert listing.status_code == 200
    [listed] = listing.json()["tokens"]
    assert set(listed) == {"id", "name", "scopes", "prefix", "created_at", "last_used_at"}
    assert listed["last_used_at"] is None and secret not in listing.text


async def test_a_token_acts_as_its_owner_within_its_scopes(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    reader = await make_token(client, ada, "dashboard", ["stores:read"])
    writer = await make_token(client, ada, "ci", ["stores:write"])
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one")

    assert (await client.get(STORES, headers=reader.headers)).status_code == 200
    assert (await client.get(f"{STORES}/{store.id}", headers=reader.headers)).status_code == 200
    assert (await client.get(f"{STORES}/{store.id}/events", headers=reader.headers)).status_code == 200
    refused = await order_store(client, reader, "shop-two")
    assert "stores:write" in assert_error(refused, 403, "insufficient_scope")
    assert_error(await client.delete(f"{STORES}/{store.id}", headers=reader.headers), 403, "insufficient_scope")
    path = f"{STORES}/{store.id}/credentials"
    assert_error(await client.get(path, headers=reader.headers), 403, "insufficient_scope")

    created = await order_store(client, writer, "shop-two")
    assert created.status_code == 202, created.text
    assert fakes.bus.published[-1].owner_id == ada.id
    assert_error(await client.get(STORES, headers=writer.headers), 403, "insufficient_scope")
    [token] = [t for t, _ in fakes.api_tokens.rows.values() if t.name == "ci"]
    assert token.last_used_at is not None


async def test_a_token_cannot_manage_tokens_or_sessions(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    full = await make_token(client, ada, "all", ["stores:read", "stores:write", "stores:credentials"])
    for response in (
        await client.get(TOKENS, headers=full.headers),
        await client.post(TOKENS, json={"name": "more", "scopes": ["stores:read"]}, headers=full.headers),
        await client.post("/api/v1/auth/logout", headers=full.headers),
        await client.post("/api/v1/auth/logout-all", headers=full.headers),
    ):
        assert_error(response, 403, "session_required")


async def test_an_admins_token_is_no_admin(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    token = await make_token(client, root, "ops", ["stores:read"])
    assert_error(await client.get(f"{STORES}?all=true", headers=token.headers), 403, "admin_only")
    assert_error(await client.get("/api/v1/admin/audit", headers=token.headers), 403, "session_required")
    other = fakes.status.add_store(owner_id="someone-else", name="shop-one")
    assert_error(await client.get(f"{STORES}/{other.id}", headers=token.headers), 404, "store_not_found")


async def test_a_revoked_token_stops_working_at_once(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    token = await make_token(client, ada, "ci", ["stores:read"])
    [listed] = (await client.get(TOKENS, headers=ada.headers)).json()["tokens"]
    response = await client.delete(f"{TOKENS}/{listed['id']}", headers=ada.headers)
    assert response.status_code == 204, response.text
    assert_error(await client.get(STORES, headers=token.headers), 401, "not_authenticated")
    assert_error(await client.delete(f"{TOKENS}/{listed['id']}", headers=ada.headers), 404, "token_not_found")


async def test_logout_all_leaves_api_tokens(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    token = await make_token(client, ada, "ci", ["stores:read"])
    assert (await client.post("/api/v1/auth/logout-all", headers=ada.headers)).status_code == 204
    assert (await client.get(STORES, headers=token.headers)).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "", "scopes": ["stores:read"]}, 422, "invalid_token_name"),
        ({"name": "x" * 65, "scopes": ["stores:read"]}, 422, "invalid_token_name"),
        ({"name": "bell\x07", "scopes": ["stores:read"]}, 422, "invalid_token_name"),
        ({"name": "ci", "scopes": []}, 422, "invalid_scopes"),
        ({"name": "ci", "scopes": ["admin"]}, 422, "invalid_scopes"),
        ({"name": "ci"}, 400, "invalid_body"),
        ({"name": "ci", "scopes": ["stores:read"], "user_id": "someone"}, 400, "invalid_body"),
        ({"name": "ci", "scopes": "stores:read"}, 400, "invalid_body"),
    ],
)
async def test_bad_token_orders_are_refused(
    client: AsyncTestClient[Litestar], fakes: Fakes, body: dict[str, object], status: int, code: str
) -> None:
    ada = await sign_up(client)
    assert_error(await client.post(TOKENS, json=body, headers=ada.headers), status, code)
    assert fakes.api_tokens.rows == {}


async def test_names_are_unique_per_user_and_tokens_limited(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    bob = await sign_up(client, "bob@example.com")
    await make_token(client, ada, "ci", ["stores:read"])
    await make_token(client, bob, "ci", ["stores:read"])  # another user's names are theirs
    again = await client.post(TOKENS, json={"name": "ci", "scopes": ["stores:read"]}, headers=ada.headers)
    assert_error(again, 409, "token_name_taken")
    for n in range(19):
        await make_token(client, ada, f"t{n}", ["stores:read"])
    too_many = await client.post(TOKENS, json={"name": "t99", "scopes": ["stores:read"]}, headers=ada.headers)
    assert_error(too_many, 409, "token_limit_reached")


async def test_an_unknown_token_is_401(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get(STORES, headers={"Authorization": "Bearer sp_not-a-real-token"})
    assert_error(response, 401, "not_authenticated")
