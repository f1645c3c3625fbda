"""Sessions: refresh (rotated, once), logout of one session or all, admins granted and revoked by the
operator (never by registering an email), failed logins slowed down, and production mode refusing
the development key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_gateway.app import create_app
from storeplane_gateway.areas.admin.services import UnknownAccount, grant_admin, list_admins, revoke_admin
from storeplane_gateway.settings import GatewaySettings, InsecureConfiguration
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import (
    ADMIN_EMAIL,
    STORES,
    Account,
    account_of,
    asgi_transport,
    assert_error,
    log_in,
    sign_up,
    sign_up_admin,
)

REFRESH = "/api/v1/auth/refresh"
LOGIN = "/api/v1/auth/login"


async def _works(client: AsyncTestClient[Litestar], account: Account) -> bool:
    response = await client.get(STORES, headers=account.headers)
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


async def test_a_refresh_token_gives_new_tokens_once(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    first = await client.post(REFRESH, json={"refresh_token": ada.refresh_token})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["user"] == {"id": ada.id, "email": ada.email, "role": "user"}
    assert body["refresh_token"] != ada.refresh_token and body["token"] != ada.token
    renewed = account_of(body)
    assert await _works(client, renewed)

    again = await client.post(REFRESH, json={"refresh_token": ada.refresh_token})
    assert "already used" in assert_error(again, 401, "invalid_refresh_token")
    # A refresh token used twice means it was copied: the whole session ends.
    assert not await _works(client, renewed)
    assert_error(
        await client.post(REFRESH, json={"refresh_token": renewed.refresh_token}), 401, "invalid_refresh_token"
    )


@pytest.mark.parametrize("which", ["access token", "garbage", "empty"])
async def test_only_a_refresh_token_refreshes(client: AsyncTestClient[Litestar], which: str) -> None:
    ada = await sign_up(client)
    token = {"access token": ada.token, "garbage": "not.a.jwt", "empty": ""}[which]
    assert_error(await client.post(REFRESH, json={"refresh_token": token}), 401, "invalid_refresh_token")


async def test_a_refresh_token_is_not_a_bearer_token(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    response = await client.get(STORES, headers={"Authorization": f"Bearer {ada.refresh_token}"})
    assert_error(response, 401, "not_authenticated")


async def test_logout_ends_this_session_only(client: AsyncTestClient[Litestar]) -> None:
    laptop = await sign_up(client)
    phone = await log_in(client)
    bob = await sign_up(client, "bob@example.com")

    response = await client.post("/api/v1/auth/logout", headers=laptop.headers)
    assert response.status_code == 204, response.text

    assert not await _works(client, laptop)
    assert_error(await client.post(REFRESH, json={"refresh_token": laptop.refresh_token}), 401, "invalid_refresh_token")
    assert await _works(client, phone)
    assert await _works(client, bob)


async def test_logout_all_ends_every_session_of_the_user_only(client: AsyncTestClient[Litestar]) -> None:
    laptop = await sign_up(client)
    phone = await log_in(client)
    bob = await sign_up(client, "bob@example.com")

    response = await client.post("/api/v1/auth/logout-all", headers=phone.headers)
    assert response.status_code == 204, response.text

    assert not await _works(client, laptop)
    assert not await _works(client, phone)
    assert_error(await client.post(REFRESH, json={"refresh_token": phone.refresh_token}), 401, "invalid_refresh_token")
    assert await _works(client, bob)
    assert await _works(client, await log_in(client))  # logging in again starts a new session


async def test_logout_needs_a_token(client: AsyncTestClient[Litestar]) -> None:
    assert_error(await client.post("/api/v1/auth/logout"), 401, "not_authenticated")
    assert_error(await client.post("/api/v1/auth/logout-all"), 401, "not_authenticated")


@pytest.fixture
async def listing_client(fakes: Fakes) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A development gateway still configured the old way: STOREPLANE_ADMIN_EMAILS lists ADMIN_EMAIL."""
    settings = GatewaySettings(admin_emails=(ADMIN_EMAIL,))
    async with AsyncTestClient(app=create_app(settings, adapters=fakes.factory())) as client:
        yield client


async def test_registering_a_listed_email_does_not_make_an_admin(
    listing_client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    # Nobody proves they own an email: whoever registers the address first must not get the role.
    attacker = await sign_up(listing_client, ADMIN_EMAIL.upper())
    assert attacker.role == "user"
    assert fakes.users.accounts[attacker.id].role == "user"
    assert (await log_in(listing_client, ADMIN_EMAIL)).role == "user"  # nor at a login
    assert_error(await listing_client.get("/api/v1/admin/audit", headers=attacker.headers), 403, "admin_only")


async def test_a_granted_admin_loses_the_role_at_the_next_refresh_once_revoked(
    listing_client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    root = await sign_up_admin(listing_client, fakes.grant_admin)
    assert (await listing_client.get("/api/v1/admin/audit", headers=root.headers)).status_code == 200

    await fakes.users.set_role(root.id, "user")  # the account's row is the authority, not a list of emails
    refreshed = await listing_client.post(REFRESH, json={"refresh_token": root.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    demoted = account_of(refreshed.json())
    assert demoted.role == "user"
    assert_error(await listing_client.get("/api/v1/admin/audit", headers=demoted.headers), 403, "admin_only")
    assert (await log_in(listing_client, ADMIN_EMAIL)).role == "user"  # the listed email is not granted again


async def test_the_revoke_command_ends_an_admins_sessions_at_once(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    account, was_admin, ended = await revoke_admin(ADMIN_EMAIL, users=fakes.users, sessions=fakes.sessions)
    assert (account.id, was_admin, ended) == (root.id, True, 2)  # registering and logging in began one each
    assert_error(await client.get("/api/v1/admin/audit", headers=root.headers), 401, "not_authenticated")
    assert_error(await client.post(REFRESH, json={"refresh_token": root.refresh_token}), 401, "invalid_refresh_token")
    assert (await log_in(client, ADMIN_EMAIL)).role == "user"
    assert await list_admins(users=fakes.users) == []
    with pytest.raises(UnknownAccount):
        await grant_admin("nobody@example.com", users=fakes.users)


async def test_failed_logins_slow_down_per_email(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    await sign_up(client)
    wrong = {"email": "ada@example.com", "password": "wrong horse"}
    for _ in range(3):  # free failures
        response = await client.post(LOGIN, json=wrong)
        assert_error(response, 401, "invalid_credentials")
        assert "retry-after" not in response.headers
    fourth = await client.post(LOGIN, json=wrong)
    assert_error(fourth, 401, "invalid_credentials")
    assert fourth.headers["retry-after"] == "1"

    # Even the right password waits now, and says how long.
    blocked = await client.post(LOGIN, json={"email": "ada@example.com", "password": "correct horse"})
    assert "try again in 1 seconds" in assert_error(blocked, 429, "login_throttled")
    assert blocked.headers["retry-after"] == "1"
    # Other accounts are not affected, and unknown emails are throttled alike (nothing is revealed).
    assert (await client.post(LOGIN, json={"email": "bob@example.com", "password": "x" * 9})).status_code == 401

    fakes.clock += 1.5
    fifth = await client.post(LOGIN, json=wrong)
    assert fifth.headers["retry-after"] == "2"  # doubled
    fakes.clock += 2.5
    assert (await client.post(LOGIN, json={"email": "ada@example.com", "password": "correct horse"})).status_code == 200
    assert "ada@example.com" not in fakes.logins.rows  # a success forgets the failures


async def test_concurrent_wrong_passwords_cannot_slip_past_the_throttle(fakes: Fakes) -> None:
    """Requests at once on one event loop (Litestar's test client answers one at a time): each attempt is
    claimed before its password is checked, so only the free failures and the one that sets the wait run."""
    app = create_app(GatewaySettings(auth_requests_per_minute_per_address=0), adapters=fakes.factory())
    transport = asgi_transport(app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        await sign_up(http)
        wrong = {"email": "ada@example.com", "password": "wrong horse"}
        responses = await asyncio.gather(*(http.post(LOGIN, json=wrong) for _ in range(12)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [401] * 4 + [429] * 8, statuses  # 3 free failures, then the 4th sets a wait of 1 s
    for refused in (response for response in responses if response.status_code == 429):
        assert_error(refused, 429, "login_throttled")
        assert refused.headers["retry-after"] == "1"


def test_production_refuses_to_start_without_a_configured_key() -> None:
    with pytest.raises(InsecureConfiguration, match="STOREPLANE_JWT_SECRET is not set"):
        create_app(GatewaySettings(env="production"), adapters=Fakes().factory())
    create_app(GatewaySettings(env="production", jwt_secret="k" * 40), adapters=Fakes().factory())
    create_app(GatewaySettings(env="development"), adapters=Fakes().factory())


def test_an_unconfigured_key_is_random_never_a_constant() -> None:
    """Anyone with the source could sign any token with a key written in it."""
    assert GatewaySettings().jwt_secret != GatewaySettings().jwt_secret
    assert len(GatewaySettings().jwt_secret) >= 32


def test_production_refuses_the_admin_emails_setting() -> None:
    settings = GatewaySettings(env="production", jwt_secret="k" * 40, admin_emails=("root@example.com",))
    with pytest.raises(InsecureConfiguration, match="storeplane-gateway admin grant EMAIL"):
        create_app(settings, adapters=Fakes().factory())


def test_production_refuses_cors_for_everyone() -> None:
    settings = GatewaySettings(env="production", jwt_secret="k" * 40, cors_origins=("*",))
    with pytest.raises(InsecureConfiguration, match="STOREPLANE_CORS_ORIGINS"):
        create_app(settings, adapters=Fakes().factory())
