"""The account and session rules, called on the service directly with the fakes: no HTTP, and an
Argon2 hasher with the cheapest parameters (the real ones cost tens of milliseconds per hash).

The HTTP answers to the same refusals: test_gateway_auth.py, test_gateway_sessions.py."""

from __future__ import annotations

import asyncio

import pytest
from argon2 import PasswordHasher

from storeplane_gateway.areas.accounts.passwords import Passwords
from storeplane_gateway.areas.accounts.services import AccountService
from storeplane_gateway.areas.accounts.session_tokens import TokenIssuer
from storeplane_gateway.domain.errors import (
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    LoginThrottled,
    PasswordTooLong,
    RefreshAccountGone,
    RefreshTokenSpent,
    RefreshTokenUnreadable,
    WeakPassword,
)
from storeplane_gateway.domain.users import User
from storeplane_gateway.http.authentication import make_jwt_auth
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes

PASSWORD = "correct horse"


class Noted:
    """`AuditNotes` that keeps what it is told."""

    def __init__(self) -> None:
        self.emails: list[str] = []
        self.actors: list[User] = []

    def __call__(self, *, actor: User | None = None, email: str | None = None, target: str | None = None) -> None:
        if email is not None:
            self.emails.append(email)
        if actor is not None:
            self.actors.append(actor)


@pytest.fixture
def accounts(fakes: Fakes) -> AccountService:
    settings = GatewaySettings()
    tokens = TokenIssuer(make_jwt_auth(settings), ttl_seconds=60, refresh_ttl_seconds=600)
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return AccountService(
        users=fakes.users, sessions=fakes.sessions, logins=fakes.logins, passwords=Passwords(cheap), tokens=tokens
    )


async def test_registering_makes_a_user_and_a_session(accounts: AccountService, fakes: Fakes) -> None:
    noted = Noted()
    body = await accounts.register(" Ada@Example.com ", PASSWORD, notes=noted)
    assert (body.user.email, body.user.role) == ("ada@example.com", "user")
    assert noted.emails == ["ada@example.com"] and [actor.id for actor in noted.actors] == [body.user.id]
    [session] = fakes.sessions.rows.values()
    assert session.user_id == body.user.id
    with pytest.raises(EmailTaken):
        await accounts.register("ada@example.com", PASSWORD)


@pytest.mark.parametrize(
    "email", ["ada", "ada@", "@example.com", "ada@example", "a b@example.com", "x" * 250 + "@e.io"]
)
async def test_a_malformed_email_is_refused(accounts: AccountService, fakes: Fakes, email: str) -> None:
    with pytest.raises(InvalidEmail):
        await accounts.register(email, PASSWORD)
    assert fakes.users.accounts == {}


async def test_a_password_must_be_long_enough_and_not_absurdly_long(accounts: AccountService) -> None:
    with pytest.raises(WeakPassword):
        await accounts.register("ada@example.com", "short")
    with pytest.raises(PasswordTooLong):
        await accounts.register("ada@example.com", "x" * 1025)


async def test_a_wrong_password_and_an_unknown_email_are_the_same_refusal(accounts: AccountService) -> None:
    await accounts.register("ada@example.com", PASSWORD)
    for email, password in (("ada@example.com", "wrong horse"), ("bob@example.com", PASSWORD)):
        with pytest.raises(InvalidCredentials) as refused:
            await accounts.login(email, password)
        assert refused.value.retry_after == 0


async def test_failed_logins_slow_down_per_email(accounts: AccountService, fakes: Fakes) -> None:
    await accounts.register("ada@example.com", PASSWORD)
    for _ in range(3):  # free failures
        with pytest.raises(InvalidCredentials) as refused:
            await accounts.login("ada@example.com", "wrong horse")
        assert refused.value.retry_after == 0
    with pytest.raises(InvalidCredentials) as fourth:
        await accounts.login("ada@example.com", "wrong horse")
    assert fourth.value.retry_after == 1
    with pytest.raises(LoginThrottled) as blocked:  # even the right password waits now
        await accounts.login("ada@example.com", PASSWORD)
    assert blocked.value.retry_after == 1

    fakes.clock += 1.5
    with pytest.raises(InvalidCredentials) as fifth:
        await accounts.login("ada@example.com", "wrong horse")
    assert fifth.value.retry_after == 2  # doubled
    fakes.clock += 2.5
    assert (await accounts.login("ada@example.com", PASSWORD)).user.email == "ada@example.com"
    assert "ada@example.com" not in fakes.logins.rows  # a success forgets the failures


async def test_concurrent_wrong_passwords_cannot_slip_past_the_throttle(accounts: AccountService) -> None:
    await accounts.register("ada@example.com", PASSWORD)
    outcomes = await asyncio.gather(
        *(accounts.login("ada@example.com", "wrong horse") for _ in range(12)), return_exceptions=True
    )
    assert (
        sum(isinstance(outcome, InvalidCredentials) for outcome in outcomes) == 4
    )  # 3 free, then one that sets a wait
    assert sum(isinstance(outcome, LoginThrottled) for outcome in outcomes) == 8


async def test_an_email_too_long_to_exist_costs_no_throttle_and_no_hash(accounts: AccountService, fakes: Fakes) -> None:
    noted = Noted()
    with pytest.raises(InvalidCredentials):
        await accounts.login("x" * 300 + "@example.com", PASSWORD, notes=noted)
    assert fakes.logins.rows == {} and noted.emails == []


async def test_the_role_comes_from_the_account_at_every_login_and_refresh(
    accounts: AccountService, fakes: Fakes
) -> None:
    registered = await accounts.register("root@example.com", PASSWORD)
    await fakes.grant_admin("root@example.com")
    logged_in = await accounts.login("root@example.com", PASSWORD)
    assert (registered.user.role, logged_in.user.role) == ("user", "admin")
    await fakes.users.set_role(registered.user.id, "user")
    assert (await accounts.refresh(logged_in.refresh_token)).user.role == "user"


async def test_a_refresh_token_works_once_and_reuse_ends_the_session(accounts: AccountService, fakes: Fakes) -> None:
    first = await accounts.register("ada@example.com", PASSWORD)
    second = await accounts.refresh(first.refresh_token)
    with pytest.raises(RefreshTokenSpent):
        await accounts.refresh(first.refresh_token)  # copied: the session ends
    with pytest.raises(RefreshTokenSpent):
        await accounts.refresh(second.refresh_token)
    assert len(fakes.sessions.revoked) == 1


async def test_only_a_refresh_token_of_an_existing_account_refreshes(accounts: AccountService, fakes: Fakes) -> None:
    body = await accounts.register("ada@example.com", PASSWORD)
    for token in (body.token, "not-a-jwt"):
        with pytest.raises(RefreshTokenUnreadable):
            await accounts.refresh(token)
    del fakes.users.accounts[body.user.id]
    with pytest.raises(RefreshAccountGone):
        await accounts.refresh(body.refresh_token)
