"""Admins find a user by email (the dashboard's quota page knows users by email, the quota routes by
id), against the real Postgres: the one account whatever the case and spaces, none for an unknown
email, a malformed one refused with what to fix, and no one but an admin may ask."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.unit.gateway.helpers import assert_error, sign_up, sign_up_admin

pytestmark = pytest.mark.integration

USERS = "/api/v1/admin/users"


async def test_an_admin_finds_a_user_by_email_and_opens_their_quota(
    gateway: AsyncTestClient[Litestar], grant_admin: Callable[[str], Awaitable[None]]
) -> None:
    root = await sign_up_admin(gateway, grant_admin)
    ada = await sign_up(gateway, "ada@example.com")

    found = await gateway.get(USERS, params={"email": "  ADA@Example.COM "}, headers=root.headers)
    assert found.status_code == 200, found.text
    assert found.json() == {"users": [{"id": ada.id, "email": "ada@example.com", "role": "user", "store_limit": None}]}

    # The id found is the one the quota routes take; a limit set there shows when found again.
    put = await gateway.put(f"{USERS}/{ada.id}/quota", json={"store_limit": 7}, headers=root.headers)
    assert put.status_code == 200, put.text
    again = await gateway.get(USERS, params={"email": "ada@example.com"}, headers=root.headers)
    assert again.json()["users"][0]["store_limit"] == 7

    nobody = await gateway.get(USERS, params={"email": "nobody@example.com"}, headers=root.headers)
    assert nobody.status_code == 200 and nobody.json() == {"users": []}


async def test_a_malformed_or_missing_email_is_refused_and_only_admins_may_ask(
    gateway: AsyncTestClient[Litestar], grant_admin: Callable[[str], Awaitable[None]]
) -> None:
    root = await sign_up_admin(gateway, grant_admin)
    ada = await sign_up(gateway, "ada@example.com")

    malformed = await gateway.get(USERS, params={"email": "ada"}, headers=root.headers)
    assert "email" in assert_error(malformed, 400, "invalid_request")
    assert_error(await gateway.get(USERS, headers=root.headers), 400, "invalid_request")
    assert_error(await gateway.get(USERS, params={"email": ada.email}, headers=ada.headers), 403, "admin_only")
    assert_error(await gateway.get(USERS, params={"email": ada.email}), 401, "not_authenticated")


async def test_the_route_is_in_the_openapi_schema(gateway: AsyncTestClient[Litestar]) -> None:
    operation = (await gateway.get("/schema/openapi.json")).json()["paths"][USERS]["get"]
    [email] = [parameter for parameter in operation["parameters"] if parameter["name"] == "email"]
    assert email["in"] == "query" and email["required"] is True
    assert set(operation["responses"]) >= {"200", "400", "401", "403"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AdminUserListBody"
    }
    assert operation["security"] == [{"BearerToken": []}] and operation["tags"] == ["admin"]
