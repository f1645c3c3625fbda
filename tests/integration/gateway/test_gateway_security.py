"""The security features against the real Postgres and NATS JetStream: the quota under concurrent
orders, reservations settled by the stream once their lease is over, slots freed by StoreDeleted
from the bus, token revocation, API tokens stored hashed, the login throttle (also under
concurrent guesses), and the audit trail read back from the AUDIT stream."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx
import nats
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts import audit, subjects
from storeplane_contracts.events import StoreDeleted, StoreRequested, encode, new_id
from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings
from tests.integration.gateway.support import StatusResponder, stored_events, wait_until_ready
from tests.unit.gateway.helpers import (
    STORES,
    Account,
    asgi_transport,
    assert_error,
    log_in,
    order_store,
    sign_up,
    sign_up_admin,
)

pytestmark = pytest.mark.integration


async def _count(database_url: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


@pytest.fixture
async def unthrottled(gateway_settings: GatewaySettings, tracing: None) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The gateway with no per-user order limit, so that only the quota decides."""
    settings = gateway_settings.model_copy(update={"store_creates_per_minute_per_user": 0})
    async with AsyncTestClient(app=create_app(settings)) as client:
        await wait_until_ready(client)
        yield client


async def test_ten_concurrent_orders_with_a_limit_of_five_make_five_stores(
    nats_url: str,
    unthrottled: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
    database_url: str,
) -> None:
    ada = await sign_up(unthrottled)
    responses = await asyncio.gather(*(order_store(unthrottled, ada, f"shop-{n}") for n in range(10)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [202] * 5 + [403] * 5, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 403):
        assert "limit 5, in use 5" in assert_error(refused, 403, "store_quota_exceeded")
    published = await stored_events(nats_url, expected=5)
    assert len(published) == 5 and all(isinstance(event, StoreRequested) for _, event in published)
    assert await _count(database_url, "SELECT count(*) FROM gateway_store_slots WHERE owner_id = $1", ada.id) == 5


async def test_concurrent_orders_for_one_name_by_two_users_make_one_store(
    nats_url: str,
    unthrottled: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
) -> None:
    ada = await sign_up(unthrottled, "ada@example.com")
    bob = await sign_up(unthrottled, "bob@example.com")
    responses = await asyncio.gather(*(order_store(unthrottled, user, "shop-one") for user in (ada, bob) * 3))
    assert sorted(r.status_code for r in responses) == [202, 409, 409, 409, 409, 409]
    assert len(await stored_events(nats_url, expected=1)) == 1


async def _slots(database_url: str) -> dict[str, tuple[str, str]]:
    """store id -> (name, state) of every slot."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT store_id::text, name, state FROM gateway_store_slots")
    finally:
        await conn.close()
    return {row["store_id"]: (row["name"], row["state"]) for row in rows}


async def _execute(database_url: str, sql: str, *args: object) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


_LEASE_OVER = "UPDATE gateway_store_slots SET created_at = now() - interval '10 minutes'"


async def test_a_stale_reservation_without_its_request_on_the_stream_is_freed(
    gateway: AsyncTestClient[Litestar], status_responder: StatusResponder, database_url: str
) -> None:
    """A gateway died between reserving and publishing: once the lease is over the slot is given back."""
    ada = await sign_up(gateway)
    await _execute(database_url, "UPDATE gateway_users SET store_limit = 1")
    ghost = new_id()
    await _execute(
        database_url,
        "INSERT INTO gateway_store_slots (store_id, owner_id, name, state) VALUES ($1, $2, 'ghost-shop', 'reserved')",
        uuid.UUID(ghost),
        ada.id,
    )
    assert_error(await order_store(gateway, ada, "shop-one"), 403, "store_quota_exceeded")  # within the lease

    await _execute(database_url, _LEASE_OVER)
    created = await order_store(gateway, ada, "shop-one")
    assert created.status_code == 202, created.text
    assert await _slots(database_url) == {created.json()["id"]: ("shop-one", "confirmed")}


async def test_a_stale_reservation_whose_request_is_on_the_stream_is_kept(
    gateway: AsyncTestClient[Litestar], status_responder: StatusResponder, database_url: str
) -> None:
    """A gateway published and died before it confirmed the slot: the stream holds the request, so the slot stays."""
    ada = await sign_up(gateway)
    await _execute(database_url, "UPDATE gateway_users SET store_limit = 1")
    published = (await order_store(gateway, ada, "shop-one")).json()
    await _execute(database_url, "UPDATE gateway_store_slots SET state = 'reserved'")
    await _execute(database_url, _LEASE_OVER)

    refused = await order_store(gateway, ada, "shop-two")
    assert "limit 1, in use 1" in assert_error(refused, 403, "store_quota_exceeded")
    assert await _slots(database_url) == {published["id"]: ("shop-one", "confirmed")}


async def test_a_publish_without_an_ack_keeps_its_reservation_and_a_refused_one_frees_it(
    nats_url: str,
    gateway: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
    database_url: str,
) -> None:
    ada = await sign_up(gateway)
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().delete_stream(subjects.STREAM)
        refused = await order_store(gateway, ada, "shop-one")  # no stream answers: certainly not stored
        assert "may have been accepted" not in assert_error(refused, 503, "bus_unavailable")
        assert await _slots(database_url) == {}

        await nc.subscribe("stores.>")  # something takes the publish but never acknowledges it
        await nc.flush()
        unconfirmed = await order_store(gateway, ada, "shop-one")
        assert "may have been accepted" in assert_error(unconfirmed, 503, "bus_unavailable")
        assert list((await _slots(database_url)).values()) == [("shop-one", "reserved")]
    finally:
        await nc.close()


async def test_concurrent_wrong_passwords_get_at_most_the_free_failures_through(
    gateway_settings: GatewaySettings, tracing: None
) -> None:
    """Requests at once on one event loop (not Litestar's one-at-a-time test client), on the real throttle."""
    settings = gateway_settings.model_copy(update={"auth_requests_per_minute_per_address": 0})
    app = create_app(settings)
    transport = asgi_transport(app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await wait_until_ready(client)
        await sign_up(client)
        wrong = {"email": "ada@example.com", "password": "wrong horse"}
        responses = await asyncio.gather(*(client.post("/api/v1/auth/login", json=wrong) for _ in range(12)))
    guessed = [response for response in responses if response.status_code == 401]
    refused = [response for response in responses if response.status_code != 401]
    allowed = settings.login_free_failures + 1  # the free ones, and the one whose failure sets the first wait
    assert 1 <= len(guessed) <= allowed, [response.status_code for response in responses]
    assert len(refused) >= len(responses) - allowed
    for response in refused:
        assert_error(response, 429, "login_throttled")
        assert int(response.headers["retry-after"]) >= 1


async def test_store_deleted_on_the_bus_frees_the_slot(
    nats_url: str,
    gateway: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
    database_url: str,
    grant_admin: Callable[[str], Awaitable[None]],
) -> None:
    root = await sign_up_admin(gateway, grant_admin)
    ada = await sign_up(gateway)
    await gateway.put(f"/api/v1/admin/users/{ada.id}/quota", json={"store_limit": 1}, headers=root.headers)
    created = (await order_store(gateway, ada, "shop-one")).json()
    assert_error(await order_store(gateway, ada, "shop-two"), 403, "store_quota_exceeded")

    nc = await nats.connect(nats_url)
    try:
        deleted = StoreDeleted(store_id=created["id"], owner_id=ada.id, namespace=created["namespace"])
        await nc.jetstream().publish(
            subjects.subject_for(deleted), encode(deleted), headers={"Nats-Msg-Id": deleted.event_id}
        )
    finally:
        await nc.close()

    async with asyncio.timeout(10):  # the gateway's durable consumer frees the slot
        while True:
            if await _count(database_url, "SELECT count(*) FROM gateway_store_slots") == 0:
                break
            await asyncio.sleep(0.05)
    assert (await order_store(gateway, ada, "shop-two")).status_code == 202
    quota = (await gateway.get("/api/v1/account", headers=ada.headers)).json()["quota"]
    assert quota == {"limit": 1, "in_use": 1}


async def test_logout_refresh_and_logout_all_revoke_at_once(
    gateway: AsyncTestClient[Litestar], status_responder: StatusResponder, database_url: str
) -> None:
    laptop = await sign_up(gateway)
    phone = await log_in(gateway)
    assert (await gateway.get(STORES, headers=laptop.headers)).status_code == 200

    assert (await gateway.post("/api/v1/auth/logout", headers=laptop.headers)).status_code == 204
    assert_error(await gateway.get(STORES, headers=laptop.headers), 401, "not_authenticated")
    assert (await gateway.get(STORES, headers=phone.headers)).status_code == 200

    renewed = await gateway.post("/api/v1/auth/refresh", json={"refresh_token": phone.refresh_token})
    assert renewed.status_code == 200, renewed.text
    again = await gateway.post("/api/v1/auth/refresh", json={"refresh_token": phone.refresh_token})
    assert_error(again, 401, "invalid_refresh_token")  # reused: the session ends

    tablet = await log_in(gateway)
    desktop = await log_in(gateway)
    assert (await gateway.post("/api/v1/auth/logout-all", headers=tablet.headers)).status_code == 204
    for session in (tablet, desktop):
        assert_error(await gateway.get(STORES, headers=session.headers), 401, "not_authenticated")
    active = "SELECT count(*) FROM gateway_sessions WHERE user_id = $1::uuid AND revoked_at IS NULL"
    assert await _count(database_url, active, laptop.id) == 0


async def test_api_tokens_are_stored_hashed_and_revocable(
    gateway: AsyncTestClient[Litestar], status_responder: StatusResponder, database_url: str
) -> None:
    ada = await sign_up(gateway)
    made = await gateway.post("/api/v1/tokens", json={"name": "ci", "scopes": ["stores:read"]}, headers=ada.headers)
    assert made.status_code == 201, made.text
    secret = made.json()["token"]
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT secret_hash, prefix FROM gateway_api_tokens")
        dump = str(await conn.fetch("SELECT * FROM gateway_api_tokens"))
    finally:
        await conn.close()
    assert row is not None and row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in dump

    token = Account(id=ada.id, email=ada.email, token=secret)
    assert (await gateway.get(STORES, headers=token.headers)).status_code == 200
    assert_error(await order_store(gateway, token, "shop-one"), 403, "insufficient_scope")
    assert (await gateway.delete(f"/api/v1/tokens/{made.json()['id']}", headers=ada.headers)).status_code == 204
    assert_error(await gateway.get(STORES, headers=token.headers), 401, "not_authenticated")


async def test_failed_logins_are_slowed_across_requests(gateway: AsyncTestClient[Litestar]) -> None:
    await sign_up(gateway)
    wrong = {"email": "ada@example.com", "password": "wrong horse"}
    statuses = [(await gateway.post("/api/v1/auth/login", json=wrong)).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    blocked = await gateway.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse"})
    assert_error(blocked, 429, "login_throttled")
    assert int(blocked.headers["retry-after"]) >= 1


async def test_an_admin_reads_the_audit_trail_from_the_stream(
    nats_url: str,
    gateway: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
    grant_admin: Callable[[str], Awaitable[None]],
) -> None:
    root = await sign_up_admin(gateway, grant_admin)
    ada = await sign_up(gateway)
    created = await order_store(gateway, ada, "shop-one")
    await gateway.post("/api/v1/auth/login", json={"email": ada.email, "password": "wrong horse"})
    assert_error(await gateway.get("/api/v1/admin/audit", headers=ada.headers), 403, "admin_only")

    trail = await gateway.get("/api/v1/admin/audit", headers=root.headers)
    assert trail.status_code == 200, trail.text
    entries = trail.json()["entries"]
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("login", "refused"),
        ("create_store", "succeeded"),
        ("register", "succeeded"),
        ("login", "succeeded"),  # the admin's, after the grant
        ("register", "succeeded"),
    ]
    assert entries[1]["actor_id"] == ada.id and entries[1]["target"] == created.json()["id"]
    assert entries[1]["client_address"] and entries[0]["actor_email"] == ada.email

    only_ada = await gateway.get(f"/api/v1/admin/audit?actor_id={ada.id}", headers=root.headers)
    assert [e["action"] for e in only_ada.json()["entries"]] == ["create_store", "register"]
    logins = await gateway.get("/api/v1/admin/audit?action=login&actor_id=anonymous", headers=root.headers)
    assert [e["error_code"] for e in logins.json()["entries"]] == ["invalid_credentials"]
    newest = await gateway.get("/api/v1/admin/audit?limit=2", headers=root.headers)
    assert [e["action"] for e in newest.json()["entries"]] == ["login", "create_store"]

    # The records are on their own stream, by action and actor, and never hold a secret.
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(subjects.AUDIT_STREAM, subjects_filter=">")
        message = await nc.jetstream().get_last_msg(subjects.AUDIT_STREAM, f"audit.create_store.{ada.id}")
    finally:
        await nc.close()
    assert info.state.messages == 5
    assert set(info.state.subjects or {}) == {
        f"audit.register.{root.id}",
        f"audit.login.{root.id}",
        f"audit.register.{ada.id}",
        f"audit.create_store.{ada.id}",
        "audit.login.anonymous",
    }
    assert audit.decode(message.data or b"").target == created.json()["id"]
