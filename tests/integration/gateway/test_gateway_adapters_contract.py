"""One contract per Postgres adapter of the gateway, passed by it and by its in-memory twin alike:
sessions, API tokens, store slots (under concurrency), the login throttle, idempotency keys
(under concurrency) and stream tickets (single use under concurrency)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from storeplane_contracts.events import new_id
from storeplane_gateway.adapters.postgres.api_tokens import PostgresApiTokens
from storeplane_gateway.adapters.postgres.idempotency_keys import PostgresIdempotencyKeys
from storeplane_gateway.adapters.postgres.logins import PostgresLoginThrottle
from storeplane_gateway.adapters.postgres.migrations import ensure_schema
from storeplane_gateway.adapters.postgres.sessions import PostgresSessions
from storeplane_gateway.adapters.postgres.slots import PostgresStoreSlots
from storeplane_gateway.adapters.postgres.stream_tickets import PostgresStreamTickets
from storeplane_gateway.adapters.postgres.users import PostgresUsers
from storeplane_gateway.domain.api_tokens import ApiToken
from storeplane_gateway.domain.errors import NameTaken, QuotaExceeded, TokenNameTaken
from storeplane_gateway.domain.idempotency import IdempotencyKey, KeyClaimed, KeyHeld, StoredResponse
from storeplane_gateway.domain.principals import SCOPES, STORES_READ, Principal
from storeplane_gateway.domain.sessions import LoginClaim, Session
from storeplane_gateway.domain.slots import StoreSlot
from storeplane_gateway.domain.streams import hash_ticket, new_ticket
from storeplane_gateway.ports import (
    ApiTokens,
    IdempotencyKeys,
    LoginThrottle,
    Sessions,
    StoreSlots,
    StreamTickets,
    Users,
)
from tests.integration.gateway.clocks import ManualClock, advance_database_clock, pool_on_a_moving_clock
from tests.unit.gateway.fakes import (
    InMemoryApiTokens,
    InMemoryIdempotencyKeys,
    InMemoryLoginThrottle,
    InMemorySessions,
    InMemoryStoreSlots,
    InMemoryStreamTickets,
    InMemoryUsers,
)

pytestmark = pytest.mark.integration

FREE_FAILURES = 2
MAX_DELAY = 3.0


@dataclass
class Backend:
    """The adapters of one backend, sharing its users."""

    users: Users
    sessions: Sessions
    api_tokens: ApiTokens
    slots: StoreSlots
    logins: LoginThrottle
    idempotency: IdempotencyKeys
    stream_tickets: StreamTickets
    advance: Callable[[float], Awaitable[None]]  # moves the backend's clock on by that many seconds


@pytest.fixture(params=["memory", "postgres"])
async def backend(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Backend]:
    if request.param == "memory":
        users, clock = InMemoryUsers(), ManualClock()

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        yield Backend(
            users=users,
            sessions=InMemorySessions(users),
            api_tokens=InMemoryApiTokens(users),
            slots=InMemoryStoreSlots(clock=clock),
            logins=InMemoryLoginThrottle(free_failures=FREE_FAILURES, max_delay=MAX_DELAY, clock=clock),
            idempotency=InMemoryIdempotencyKeys(clock=clock),
            stream_tickets=InMemoryStreamTickets(clock=clock),
            advance=advance,
        )
        return
    async with pool_on_a_moving_clock(database_url, min_size=1, max_size=12) as pool:
        await ensure_schema(pool)

        async def advance_the_database(seconds: float) -> None:
            await advance_database_clock(pool, seconds)

        yield Backend(
            users=PostgresUsers(pool),
            sessions=PostgresSessions(pool),
            api_tokens=PostgresApiTokens(pool),
            slots=PostgresStoreSlots(pool),
            logins=PostgresLoginThrottle(pool, free_failures=FREE_FAILURES, max_delay=MAX_DELAY),
            idempotency=PostgresIdempotencyKeys(pool),
            stream_tickets=PostgresStreamTickets(pool),
            advance=advance_the_database,
        )


def _session(user_id: str, *, expires_in: timedelta = timedelta(hours=1)) -> Session:
    return Session(id=new_id(), user_id=user_id, refresh_jti=new_id(), expires_at=datetime.now(UTC) + expires_in)


# Sessions


async def test_a_started_session_is_active_for_its_user_only(backend: Backend) -> None:
    ada = await backend.users.add("ada@example.com", "h")
    bob = await backend.users.add("bob@example.com", "h")
    session = _session(ada.id)
    await backend.sessions.start(session)
    assert await backend.sessions.active_role(session.id, ada.id) == "user"
    assert await backend.sessions.active_role(session.id, bob.id) is None
    assert await backend.sessions.active_role(new_id(), ada.id) is None
    assert await backend.sessions.active_role("not-an-id", ada.id) is None


async def test_an_active_session_carries_its_accounts_current_role(backend: Backend) -> None:
    ada = await backend.users.add("ada@example.com", "h")
    session = _session(ada.id)
    await backend.sessions.start(session)
    await backend.users.set_role(ada.id, "admin")
    assert await backend.sessions.active_role(session.id, ada.id) == "admin"
    await backend.users.set_role(ada.id, "user")
    assert await backend.sessions.active_role(session.id, ada.id) == "user"


async def test_an_expired_session_is_not_active(backend: Backend) -> None:
    ada = await backend.users.add("ada@example.com", "h")
    session = _session(ada.id, expires_in=-timedelta(seconds=1))
    await backend.sessions.start(session)
    assert await backend.sessions.active_role(session.id, ada.id) is None
    assert not await backend.sessions.end(session.id, ada.id)


async def test_a_refresh_token_id_rotates_once(backend: Backend) -> None:
    ada = await backend.users.add("ada@example.com", "h")
    session = _session(ada.id)
    await backend.sessions.start(session)
    later = datetime.now(UTC) + timedelta(hours=2)
    second = new_id()
    assert await backend.sessions.rotate(
        session.id, ada.id, used_jti=session.refresh_jti, next_jti=second, expires_at=later
    )
    assert await backend.sessions.active_role(session.id, ada.id) == "user"
    # The first refresh token again: copied, so the session ends, and the second one dies with it.
    assert not await backend.sessions.rotate(
        session.id, ada.id, used_jti=session.refresh_jti, next_jti=new_id(), expires_at=later
    )
    assert await backend.sessions.active_role(session.id, ada.id) is None
    assert not await backend.sessions.rotate(session.id, ada.id, used_jti=second, next_jti=new_id(), expires_at=later)


async def test_sessions_end_one_or_all(backend: Backend) -> None:
    ada = await backend.users.add("ada@example.com", "h")
    bob = await backend.users.add("bob@example.com", "h")
    laptop, phone, tablet, bobs = _session(ada.id), _session(ada.id), _session(ada.id), _session(bob.id)
    for session in (laptop, phone, tablet, bobs):
        await backend.sessions.start(session)
    assert not await backend.sessions.end(laptop.id, bob.id)  # not Bob's to end
    assert await backend.sessions.end(laptop.id, ada.id)
    assert not await backend.sessions.end(laptop.id, ada.id)
    assert await backend.sessions.active_role(laptop.id, ada.id) is None
    assert await backend.sessions.end_all(ada.id) == 2
    assert await backend.sessions.active_role(phone.id, ada.id) is None
    assert await backend.sessions.active_role(tablet.id, ada.id) is None
    assert await backend.sessions.active_role(bobs.id, bob.id) == "user"
    assert await backend.sessions.end_all(ada.id) == 0


# API tokens


def _token(user_id: str, name: str, *scopes: str, age: int = 0) -> ApiToken:
    return ApiToken(
        id=new_id(),
        user_id=user_id,
        name=name,
        scopes=scopes,
        prefix="sp_abcdefg",
        created_at=datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=age),
    )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def test_a_token_authenticates_its_owner_with_its_scopes(backend: Backend) -> None:
    root = await backend.users.add("root@example.com", "h", role="admin")
    token = _token(root.id, "ci", "stores:read", "stores:write")
    await backend.api_tokens.add(token, _hash("sp_secret"))
    principal = await backend.api_tokens.authenticate(_hash("sp_secret"))
    assert principal is not None
    assert (principal.id, principal.email, principal.role) == (root.id, "root@example.com", "admin")
    assert principal.scopes == frozenset({"stores:read", "stores:write"})
    assert (principal.api_token_id, principal.session_id) == (token.id, "")
    assert not principal.is_admin  # admin powers need a session
    assert await backend.api_tokens.authenticate(_hash("sp_other")) is None
    [listed] = await backend.api_tokens.of_user(root.id)
    assert listed.last_used_at is not None and listed.scopes == ("stores:read", "stores:write")


async def test_tokens_are_listed_newest_first_named_once_and_revoked_by_their_owner(backend: Backend) -> None:
    ada = await backend.users.add("ada@example.com", "h")
    bob = await backend.users.add("bob@example.com", "h")
    old, new = _token(ada.id, "old", "stores:read", age=60), _token(ada.id, "new", "stores:read")
    await backend.api_tokens.add(old, _hash("sp_old"))
    await backend.api_tokens.add(new, _hash("sp_new"))
    await backend.api_tokens.add(_token(bob.id, "old", "stores:read"), _hash("sp_bobs"))
    with pytest.raises(TokenNameTaken):
        await backend.api_tokens.add(_token(ada.id, "old", "stores:write"), _hash("sp_again"))
    assert [t.name for t in await backend.api_tokens.of_user(ada.id)] == ["new", "old"]
    assert await backend.api_tokens.of_user("not-an-id") == []

    assert not await backend.api_tokens.revoke(bob.id, old.id)
    assert await backend.api_tokens.revoke(ada.id, old.id)
    assert not await backend.api_tokens.revoke(ada.id, old.id)
    assert not await backend.api_tokens.revoke(ada.id, "not-an-id")
    assert await backend.api_tokens.authenticate(_hash("sp_old")) is None
    assert await backend.api_tokens.authenticate(_hash("sp_new")) is not None


# Store slots


def _slot(owner_id: str, name: str) -> StoreSlot:
    return StoreSlot(store_id=new_id(), owner_id=owner_id, name=name)


async def test_slots_count_against_their_owner_and_hold_their_name(backend: Backend) -> None:
    first = _slot("ada", "shop-one")
    await backend.slots.reserve(first, limit=2)
    await backend.slots.reserve(_slot("ada", "shop-two"), limit=2)
    with pytest.raises(QuotaExceeded) as exceeded:
        await backend.slots.reserve(_slot("ada", "shop-three"), limit=2)
    assert (exceeded.value.limit, exceeded.value.in_use) == (2, 2)
    with pytest.raises(NameTaken) as taken:
        await backend.slots.reserve(_slot("bob", "shop-one"), limit=2)
    assert taken.value.holder == first
    assert [s.name for s in await backend.slots.of_owner("ada")] == ["shop-one", "shop-two"]

    assert await backend.slots.release(first.store_id)
    assert not await backend.slots.release(first.store_id)
    assert not await backend.slots.release("not-an-id")
    await backend.slots.reserve(_slot("bob", "shop-one"), limit=2)  # the name is free again
    await backend.slots.reserve(_slot("ada", "shop-three"), limit=2)  # and Ada has room


async def test_a_reservation_expires_after_its_lease_unless_confirmed(backend: Backend) -> None:
    first, second = _slot("ada", "shop-one"), _slot("ada", "shop-two")
    await backend.slots.reserve(first, limit=5)
    await backend.slots.reserve(second, limit=5)
    await backend.slots.reserve(_slot("bob", "shop-three"), limit=5)
    assert await backend.slots.expired_reservations("ada", lease=60) == []
    assert await backend.slots.expired_reservations("ada", lease=0) == [first, second]

    assert await backend.slots.confirm(first.store_id)
    assert await backend.slots.confirm(first.store_id)  # idempotent
    assert await backend.slots.expired_reservations("ada", lease=0) == [second]
    assert await backend.slots.release(second.store_id)
    assert not await backend.slots.confirm(second.store_id)  # released: nothing to confirm
    assert not await backend.slots.confirm("not-an-id")
    assert await backend.slots.expired_reservations("ada", lease=0) == []
    assert [s.name for s in await backend.slots.of_owner("ada")] == ["shop-one"]  # confirmed slots still count


async def test_concurrent_reservations_never_exceed_the_limit(backend: Backend) -> None:
    results = await asyncio.gather(
        *(backend.slots.reserve(_slot("ada", f"shop-{n}"), limit=5) for n in range(10)), return_exceptions=True
    )
    refused = [r for r in results if r is not None]
    assert len(refused) == 5 and all(isinstance(r, QuotaExceeded) for r in refused)
    assert len(await backend.slots.of_owner("ada")) == 5


async def test_concurrent_reservations_of_one_name_make_one_slot(backend: Backend) -> None:
    results = await asyncio.gather(
        *(backend.slots.reserve(_slot(f"owner-{n}", "shop-one"), limit=5) for n in range(8)), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, NameTaken) for r in results if r is not None)


# The login throttle


async def test_failures_beyond_the_free_ones_double_the_wait_up_to_the_cap(backend: Backend) -> None:
    email = "ada@example.com"
    # Each claim counts as a failure in advance and says what its failure will cost the next attempt.
    assert [(await backend.logins.claim(email)).delay_if_failed for _ in range(FREE_FAILURES)] == [0.0, 0.0]
    assert await backend.logins.claim(email) == LoginClaim(delay_if_failed=1.0)
    refused = await backend.logins.claim(email)  # within the wait: nothing counted
    assert refused.retry_after == 1.0 and refused.delay_if_failed == 0.0
    await backend.advance(1.05)
    assert await backend.logins.claim(email) == LoginClaim(delay_if_failed=2.0)
    await backend.advance(2.05)
    assert await backend.logins.claim(email) == LoginClaim(delay_if_failed=MAX_DELAY)  # 4 s, capped
    assert await backend.logins.claim("bob@example.com") == LoginClaim()
    await backend.logins.succeeded(email)
    assert await backend.logins.claim(email) == LoginClaim()  # counting starts again


async def test_concurrent_claims_take_only_the_free_failures_and_the_one_that_sets_the_wait(
    backend: Backend,
) -> None:
    claims = await asyncio.gather(*(backend.logins.claim("ada@example.com") for _ in range(10)))
    taken = [claim for claim in claims if claim.retry_after == 0]
    assert sorted(claim.delay_if_failed for claim in taken) == [0.0] * FREE_FAILURES + [1.0]
    assert all(claim.retry_after >= 1.0 for claim in claims if claim not in taken)


# Idempotency keys

DAY = 24 * 3600.0
LONG = {"ttl": DAY, "lease": 120.0}
ANSWER = StoredResponse(
    status_code=202,
    headers={"content-type": "application/json", "location": "/api/v1/stores/42", "x-stream-sequence": "7"},
    body=b'{"id":"42"}\x00\xff',  # kept as bytes, whatever they are
    target="42",
)


def _key(key: str = "key-1", *, principal_id: str = "ada", operation: str = "POST /api/v1/stores") -> IdempotencyKey:
    return IdempotencyKey(principal_id=principal_id, operation=operation, key=key)


async def _claimed(keys: IdempotencyKeys, key: IdempotencyKey, fingerprint: str, **limits: float) -> str:
    claim = await keys.claim(key, fingerprint, **(limits or LONG))
    assert isinstance(claim, KeyClaimed), claim
    return claim.token


async def test_a_claimed_key_is_held_in_flight_then_holds_its_answer(backend: Backend) -> None:
    keys, key = backend.idempotency, _key()
    token = await _claimed(keys, key, "fp-1")
    assert await keys.claim(key, "fp-1", **LONG) == KeyHeld(fingerprint="fp-1", response=None)
    assert await keys.claim(key, "fp-2", **LONG) == KeyHeld(fingerprint="fp-1", response=None)
    assert await keys.complete(key, token, ANSWER)
    assert await keys.claim(key, "fp-1", **LONG) == KeyHeld(fingerprint="fp-1", response=ANSWER)
    assert not await keys.complete(key, token, ANSWER)  # settled once
    assert not await keys.release(key, token)  # a completed key is kept
    assert await keys.claim(key, "fp-2", **LONG) == KeyHeld(fingerprint="fp-1", response=ANSWER)


async def test_keys_are_scoped_to_the_caller_and_the_operation(backend: Backend) -> None:
    keys = backend.idempotency
    await _claimed(keys, _key(), "fp-1")
    await _claimed(keys, _key(principal_id="bob"), "fp-1")
    await _claimed(keys, _key(operation="DELETE /api/v1/stores/42"), "fp-1")
    await _claimed(keys, _key("key-2"), "fp-1")
    assert isinstance(await keys.claim(_key(), "fp-1", **LONG), KeyHeld)


async def test_a_released_key_is_free_and_its_old_claim_settles_nothing(backend: Backend) -> None:
    keys, key = backend.idempotency, _key()
    old = await _claimed(keys, key, "fp-1")
    assert await keys.release(key, old)
    assert not await keys.release(key, old)
    new = await _claimed(keys, key, "fp-2")
    assert not await keys.complete(key, old, ANSWER)
    assert not await keys.release(key, old)
    assert await keys.claim(key, "fp-2", **LONG) == KeyHeld(fingerprint="fp-2", response=None)
    assert await keys.complete(key, new, ANSWER)


async def test_a_key_is_free_after_its_ttl_and_an_unsettled_claim_after_its_lease(backend: Backend) -> None:
    keys, answered, abandoned = backend.idempotency, _key("answered"), _key("abandoned")
    short_ttl, short_lease = {"ttl": 0.5, "lease": 0.5}, {"ttl": DAY, "lease": 0.5}
    assert await keys.complete(answered, await _claimed(keys, answered, "fp-1", **short_ttl), ANSWER)
    stale = await _claimed(keys, abandoned, "fp-1", **short_lease)
    assert await keys.claim(answered, "fp-2", **short_ttl) == KeyHeld(fingerprint="fp-1", response=ANSWER)
    assert await keys.claim(abandoned, "fp-2", **short_lease) == KeyHeld(fingerprint="fp-1", response=None)
    await backend.advance(0.6)
    # A completed key outlives the lease; only its ttl frees it.
    assert await keys.claim(answered, "fp-2", **short_lease) == KeyHeld(fingerprint="fp-1", response=ANSWER)
    await _claimed(keys, answered, "fp-2", **short_ttl)
    taken_over = await _claimed(keys, abandoned, "fp-2", **short_lease)
    assert not await keys.complete(abandoned, stale, ANSWER)  # the dead claim's late answer is not kept
    assert not await keys.release(abandoned, stale)
    assert await keys.complete(abandoned, taken_over, ANSWER)
    assert await keys.claim(abandoned, "fp-2", **short_lease) == KeyHeld(fingerprint="fp-2", response=ANSWER)


async def test_concurrent_claims_of_one_key_have_one_winner(backend: Backend) -> None:
    keys, key = backend.idempotency, _key()
    claims = await asyncio.gather(*(keys.claim(key, f"fp-{n}", **LONG) for n in range(10)))
    [winner] = [n for n, claim in enumerate(claims) if isinstance(claim, KeyClaimed)]
    assert all(
        claim == KeyHeld(fingerprint=f"fp-{winner}", response=None) for n, claim in enumerate(claims) if n != winner
    )


async def test_concurrent_claims_of_an_expired_key_have_one_winner(backend: Backend) -> None:
    keys, key = backend.idempotency, _key()
    short_ttl = {"ttl": 0.3, "lease": 0.3}
    assert await keys.complete(key, await _claimed(keys, key, "fp-old", **short_ttl), ANSWER)
    await backend.advance(0.4)
    claims = await asyncio.gather(*(keys.claim(key, f"fp-{n}", **short_ttl) for n in range(10)))
    [winner] = [n for n, claim in enumerate(claims) if isinstance(claim, KeyClaimed)]
    assert all(
        claim == KeyHeld(fingerprint=f"fp-{winner}", response=None) for n, claim in enumerate(claims) if n != winner
    )


async def test_postgres_deletes_expired_keys_when_keys_are_claimed(database_url: str) -> None:
    async with pool_on_a_moving_clock(database_url, min_size=1, max_size=2) as pool:
        await ensure_schema(pool)
        keys = PostgresIdempotencyKeys(pool)
        await _claimed(keys, _key("old"), "fp-1", ttl=0.3, lease=0.3)
        await advance_database_clock(pool, 0.4)
        await _claimed(keys, _key("new"), "fp-1", ttl=0.3, lease=0.3)
        assert await pool.fetchval("SELECT array_agg(key) FROM gateway_idempotency_keys") == ["new"]


# Stream tickets


def _principal() -> Principal:
    return Principal(id=new_id(), email="t@example.com", role="user", scopes=frozenset(SCOPES), session_id=new_id())


async def test_a_ticket_names_its_principal_once(backend: Backend) -> None:
    token_holder = Principal(id=new_id(), email="t@example.com", role="user", scopes=frozenset({STORES_READ}))
    ticket = new_ticket()
    await backend.stream_tickets.issue(hash_ticket(ticket), token_holder, ttl=60)
    assert await backend.stream_tickets.claim(hash_ticket(new_ticket())) is None
    assert await backend.stream_tickets.claim(hash_ticket(ticket)) == token_holder
    assert await backend.stream_tickets.claim(hash_ticket(ticket)) is None


async def test_an_expired_ticket_names_nobody(backend: Backend) -> None:
    ticket = new_ticket()
    await backend.stream_tickets.issue(hash_ticket(ticket), _principal(), ttl=60)
    await backend.advance(61)
    assert await backend.stream_tickets.claim(hash_ticket(ticket)) is None


async def test_concurrent_claims_of_a_ticket_have_one_winner(backend: Backend) -> None:
    ticket, holder = new_ticket(), _principal()
    await backend.stream_tickets.issue(hash_ticket(ticket), holder, ttl=60)
    claims = await asyncio.gather(*(backend.stream_tickets.claim(hash_ticket(ticket)) for _ in range(10)))
    assert [claim for claim in claims if claim is not None] == [holder]
