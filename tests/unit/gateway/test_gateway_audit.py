"""Every command is an audit record: who, what, when, from where, the outcome, never a secret."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts.audit import CommandAudited
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import STORES, assert_error, order_store, sign_up, sign_up_admin

PASSWORD = "correct horse"


async def test_every_command_is_recorded_with_its_outcome(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    before = datetime.now(UTC)
    root = await sign_up_admin(client, fakes.grant_admin)
    ada = await sign_up(client, password=PASSWORD)
    await client.post("/api/v1/auth/login", json={"email": ada.email, "password": "wrong horse"})
    login = (await client.post("/api/v1/auth/login", json={"email": ada.email, "password": PASSWORD})).json()
    await client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    created = (await order_store(client, ada, "shop-one")).json()
    fakes.status.add_store(owner_id=ada.id, name="shop-one", status="ready", store_id=created["id"])
    await client.get(f"{STORES}/{created['id']}/credentials", headers=ada.headers)
    await client.delete(f"{STORES}/{created['id']}", headers=ada.headers)
    token = await client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["stores:read"]}, headers=ada.headers)
    await client.delete(f"/api/v1/tokens/{token.json()['id']}", headers=ada.headers)
    await client.put(f"/api/v1/admin/users/{ada.id}/quota", json={"store_limit": 3}, headers=root.headers)
    await client.post("/api/v1/auth/logout", headers=ada.headers)
    await client.post("/api/v1/auth/logout-all", headers=root.headers)
    await client.get(STORES, headers=root.headers)  # a read is no command

    assert fakes.audit.actions() == [
        "register",
        "login",  # the admin's, after the grant
        "register",
        "login",
        "login",
        "refresh",
        "create_store",
        "read_credentials",
        "delete_store",
        "create_api_token",
        "revoke_api_token",
        "set_quota",
        "logout",
        "logout_all",
    ]
    by_action = {entry.action: entry for entry in fakes.audit.entries}
    failed_login = fakes.audit.entries[3]
    assert (failed_login.outcome, failed_login.status_code, failed_login.error_code) == (
        "refused",
        401,
        "invalid_credentials",
    )
    assert (failed_login.actor_id, failed_login.actor_email, failed_login.credential) == ("", ada.email, "none")
    assert by_action["login"].outcome == "succeeded" and by_action["login"].actor_id == ada.id
    create = by_action["create_store"]
    assert (create.actor_id, create.actor_email, create.actor_role, create.credential) == (
        ada.id,
        ada.email,
        "user",
        "session",
    )
    assert (create.target, create.status_code, create.method, create.path) == (
        created["id"],
        202,
        "POST",
        "/api/v1/stores",
    )
    assert create.client_address == "testclient"
    assert before <= create.occurred_at <= datetime.now(UTC)
    assert by_action["delete_store"].target == created["id"]
    assert by_action["revoke_api_token"].target == token.json()["id"]
    assert by_action["set_quota"].target == ada.id and by_action["set_quota"].actor_role == "admin"
    assert by_action["register"].actor_id == ada.id


async def test_no_secret_is_ever_in_the_trail(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client, password=PASSWORD)
    token = await client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["stores:read"]}, headers=ada.headers)
    await client.post("/api/v1/auth/login", json={"email": ada.email, "password": "a wrong password"})
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one", status="ready")
    await client.get(f"{STORES}/{store.id}/credentials", headers=ada.headers)
    trail = b"".join(msgspec.json.encode(entry) for entry in fakes.audit.entries)
    for secret in (PASSWORD, "a wrong password", ada.token, ada.refresh_token, token.json()["token"], "s3cret"):
        assert secret.encode() not in trail


async def test_refusals_before_the_handler_are_recorded_too(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    await order_store(client, await sign_up(client), "ok-shop")
    response = await client.post(STORES, json={"name": "shop-one", "engine": "woocommerce"})  # no token
    assert_error(response, 401, "not_authenticated")
    unknown_token = await client.post(STORES, json={"name": 7}, headers={"Authorization": "Bearer sp_nope"})
    assert_error(unknown_token, 401, "not_authenticated")
    anonymous = fakes.audit.entries[-2:]
    assert [(e.action, e.outcome, e.error_code, e.actor_id) for e in anonymous] == [
        ("create_store", "refused", "not_authenticated", ""),
        ("create_store", "refused", "not_authenticated", ""),
    ]


async def test_a_down_bus_does_not_hold_commands_back(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    fakes.audit.available = False
    account = await sign_up(client)
    assert account.id
    assert fakes.audit.entries == []


def test_records_decode_as_the_contract_says() -> None:
    entry = CommandAudited(action="login", outcome="succeeded", status_code=200, client_address="10.0.0.1")
    assert msgspec.json.decode(msgspec.json.encode(entry), type=CommandAudited) == entry
    assert msgspec.json.decode(msgspec.json.encode(entry))["type"] == "CommandAudited"
