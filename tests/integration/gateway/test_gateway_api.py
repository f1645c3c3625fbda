"""The gateway against real NATS JetStream and Postgres: accounts, stores, and what lands on the bus."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import nats
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts import naming, subjects
from storeplane_contracts.events import StoreDeletionRequested, StoreRequested
from storeplane_contracts.queries import GetStore, GetStoreEvents
from storeplane_gateway.adapters.nats.status_client import PROBE_STORE_ID
from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings
from tests.integration.gateway.support import StatusResponder, stored_events, stream_size, wait_until_ready
from tests.unit.gateway.helpers import asgi_transport, assert_error, order_store, sign_up

pytestmark = pytest.mark.integration

STORES = "/api/v1/stores"


async def test_register_and_login_against_postgres(gateway: AsyncTestClient[Litestar], database_url: str) -> None:
    account = await sign_up(gateway, "Ada@Example.com", "correct horse")
    login = await gateway.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse"})
    assert login.status_code == 200, login.text
    assert login.json()["user"] == {"id": account.id, "email": "ada@example.com", "role": "user"}
    wrong = await gateway.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "wrong horse"})
    assert_error(wrong, 401, "invalid_credentials")
    again = await gateway.post("/api/v1/auth/register", json={"email": "ADA@example.com", "password": "whatever1"})
    assert_error(again, 409, "email_taken")

    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT id::text, email, password_hash FROM gateway_users")
    finally:
        await conn.close()
    assert [(row["id"], row["email"]) for row in rows] == [(account.id, "ada@example.com")]
    assert rows[0]["password_hash"].startswith("$argon2id$")


async def test_text_postgres_cannot_hold_is_a_400_not_a_500(gateway: AsyncTestClient[Litestar]) -> None:
    """Found by the fuzzer: a NUL character in an email reached Postgres and failed there."""
    for path in ("/api/v1/auth/register", "/api/v1/auth/login"):
        response = await gateway.post(path, json={"email": "a\x00@example.com", "password": "correct horse"})
        assert_error(response, 400, "invalid_body")


async def test_stores_need_a_bearer_token(gateway: AsyncTestClient[Litestar]) -> None:
    for response in (
        await gateway.get(STORES),
        await gateway.post(STORES, json={"name": "shop-one", "engine": "woocommerce"}),
        await gateway.get(f"{STORES}/0b7e8c3e-5bd1-4a3b-9d5e-7a8e8f0e1a11"),
        await gateway.delete(f"{STORES}/0b7e8c3e-5bd1-4a3b-9d5e-7a8e8f0e1a11"),
    ):
        assert_error(response, 401, "not_authenticated")


async def test_create_lands_store_requested_in_jetstream(
    nats_url: str,
    gateway: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
) -> None:
    account = await sign_up(gateway)
    response = await gateway.post(STORES, json={"name": "Shop One", "engine": "woocommerce"}, headers=account.headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "requested"
    assert response.headers["location"] == f"{STORES}/{body['id']}"

    [(msg, event)] = await stored_events(nats_url, expected=1)
    assert isinstance(event, StoreRequested)
    assert msg.subject == f"stores.{body['id']}.store_requested"
    assert msg.metadata.sequence.stream == int(response.headers["x-stream-sequence"])
    assert (event.store_id, event.owner_id, event.name, event.engine) == (
        body["id"],
        account.id,
        "shop-one",
        "woocommerce",
    )
    assert event.namespace == body["namespace"] == naming.namespace_for("shop-one", body["id"])
    assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == event.event_id
    # The publish is a child of the HTTP request's span: same trace, in the message's headers.
    trace_id = response.headers["x-trace-id"]
    assert len(trace_id) == 32 and event.trace_id == trace_id
    assert msg.headers["traceparent"].split("-")[1] == trace_id
    # The name was checked with the status service before publishing.
    assert any(getattr(query, "name", None) == "shop-one" for query in status_responder.queries)


async def test_a_live_name_is_409_and_nothing_is_published(
    nats_url: str,
    gateway: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
) -> None:
    status_responder.status.add_store(owner_id="someone-else", name="shop-one", status="ready")
    account = await sign_up(gateway)
    response = await gateway.post(STORES, json={"name": "shop-one", "engine": "woocommerce"}, headers=account.headers)
    assert_error(response, 409, "name_taken")
    assert await stream_size(nats_url) == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "ab", "engine": "woocommerce"}, 422, "invalid_name"),
        ({"name": "admin", "engine": "woocommerce"}, 422, "invalid_name"),
        ({"name": "shop-one", "engine": "magento"}, 422, "unsupported_engine"),
        ({"name": "shop-one", "engine": "magento"}, 422, "unsupported_engine"),
        ({"name": "shop-one"}, 400, "invalid_body"),
        ({"name": "shop-one", "engine": "woocommerce", "replicas": 3}, 400, "invalid_body"),
        ({"name": ["shop-one"], "engine": "woocommerce"}, 400, "invalid_body"),
    ],
)
async def test_invalid_orders_are_refused_before_the_bus(
    nats_url: str,
    gateway: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
    body: dict[str, object],
    status: int,
    code: str,
) -> None:
    account = await sign_up(gateway)
    assert_error(await gateway.post(STORES, json=body, headers=account.headers), status, code)
    assert await stream_size(nats_url) == 0


async def test_reads_go_to_the_status_service_and_stay_private(
    gateway: AsyncTestClient[Litestar], status_responder: StatusResponder
) -> None:
    ada = await sign_up(gateway, "ada@example.com")
    bob = await sign_up(gateway, "bob@example.com")
    store = status_responder.status.add_store(owner_id=ada.id, name="shop-one")
    for n in range(3):  # the stream holds sequences 1 to 3
        assert (await order_store(gateway, ada, f"other-shop-{n}")).status_code == 202

    mine = await gateway.get(f"{STORES}/{store.id}", headers={**ada.headers, "X-Min-Sequence": "2"})
    assert mine.status_code == 200, mine.text
    assert mine.json()["urls"] == {
        "storefront": "http://shop-one.stores.localhost/",
        "admin": "http://shop-one.stores.localhost/wp-admin/",
    }
    assert GetStore(store_id=store.id, owner_id=ada.id, min_sequence=2) in status_responder.queries

    assert_error(await gateway.get(f"{STORES}/{store.id}", headers=bob.headers), 404, "store_not_found")
    assert_error(await gateway.get(f"{STORES}/{store.id}/events", headers=bob.headers), 404, "store_not_found")
    assert_error(await gateway.delete(f"{STORES}/{store.id}", headers=bob.headers), 404, "store_not_found")
    assert (await gateway.get(STORES, headers=bob.headers)).json() == {"stores": [], "next": None}
    assert [s["id"] for s in (await gateway.get(STORES, headers=ada.headers)).json()["stores"]] == [store.id]

    events = await gateway.get(f"{STORES}/{store.id}/events", headers={**ada.headers, "X-Min-Sequence": "3"})
    assert events.status_code == 200 and events.json() == {"events": [], "next": None}
    assert GetStoreEvents(store_id=store.id, owner_id=ada.id, min_sequence=3, limit=51) in status_responder.queries
    # A sequence the stream has not reached names no write: it is not waited for.
    future = await gateway.get(f"{STORES}/{store.id}", headers={**ada.headers, "X-Min-Sequence": "999999"})
    assert future.status_code == 200
    assert GetStore(store_id=store.id, owner_id=ada.id, min_sequence=3) in status_responder.queries


async def test_delete_lands_deletion_requested_in_jetstream(
    nats_url: str,
    gateway: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
) -> None:
    ada = await sign_up(gateway)
    store = status_responder.status.add_store(owner_id=ada.id, name="shop-one")
    response = await gateway.delete(f"{STORES}/{store.id}", headers=ada.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "deleting"
    [(msg, event)] = await stored_events(nats_url, expected=1)
    assert isinstance(event, StoreDeletionRequested)
    assert (event.store_id, event.owner_id, event.namespace) == (store.id, ada.id, store.namespace)
    assert msg.metadata.sequence.stream == int(response.headers["x-stream-sequence"])
    assert event.trace_id == response.headers["x-trace-id"]


async def test_concurrent_creates_with_one_idempotency_key_make_one_store(
    nats_url: str,
    gateway_settings: GatewaySettings,
    database_url: str,
    status_responder: StatusResponder,
    tracing: None,
) -> None:
    """Two overlapping requests (the app on this event loop, not Litestar's one-at-a-time test client):
    each gets the first answer, its replay, or 409 `idempotency_key_in_use` until the first has answered."""
    app = create_app(gateway_settings)
    transport = asgi_transport(app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await wait_until_ready(client)
        ada = await sign_up(client)
        headers = {**ada.headers, "Idempotency-Key": "order-shop-one"}
        body = {"name": "shop-one", "engine": "woocommerce"}
        answers = list(await asyncio.gather(*(client.post(STORES, json=body, headers=headers) for _ in range(2))))
        for n, answer in enumerate(answers):
            if answer.status_code == 409:
                assert_error(answer, 409, "idempotency_key_in_use")
                await asyncio.sleep(int(answer.headers["retry-after"]))
                answers[n] = await client.post(STORES, json=body, headers=headers)
        assert [answer.status_code for answer in answers] == [202, 202], [answer.text for answer in answers]
        assert sorted(answer.headers.get("idempotent-replayed", "") for answer in answers) == ["", "true"]
        first, replay = sorted(answers, key=lambda answer: answer.headers.get("idempotent-replayed", ""))
        assert replay.content == first.content
        for header in ("location", "x-stream-sequence", "x-trace-id"):
            assert replay.headers[header] == first.headers[header]

    store_id = first.json()["id"]
    assert await stream_size(nats_url) == 1
    [(msg, event)] = await stored_events(nats_url, expected=1)
    assert isinstance(event, StoreRequested) and event.store_id == store_id
    assert msg.metadata.sequence.stream == int(first.headers["x-stream-sequence"])
    conn = await asyncpg.connect(database_url)
    try:
        slots = await conn.fetch("SELECT store_id::text FROM gateway_store_slots")
        keys = await conn.fetch("SELECT principal_id, key, state, status_code FROM gateway_idempotency_keys")
    finally:
        await conn.close()
    assert [row["store_id"] for row in slots] == [store_id]
    assert [tuple(row) for row in keys] == [(ada.id, "order-shop-one", "completed", 202)]


async def test_no_status_service_is_503_status_unavailable(gateway: AsyncTestClient[Litestar]) -> None:
    account = await sign_up(gateway)
    for response in (
        await gateway.get(STORES, headers=account.headers),
        await gateway.post(STORES, json={"name": "shop-one", "engine": "woocommerce"}, headers=account.headers),
    ):
        assert_error(response, 503, "status_unavailable")
        assert response.headers["retry-after"] == "3"


async def test_a_silent_status_service_times_out_as_503(
    gateway: AsyncTestClient[Litestar], gateway_settings: GatewaySettings, status_responder: StatusResponder
) -> None:
    status_responder.silent = True
    account = await sign_up(gateway)
    response = await gateway.get(STORES, headers=account.headers)
    assert_error(response, 503, "status_unavailable")
    assert response.headers["retry-after"] == "3"


async def test_a_missing_stream_is_503_bus_unavailable_never_202(
    nats_url: str,
    gateway: AsyncTestClient[Litestar],
    gateway_settings: GatewaySettings,
    status_responder: StatusResponder,
) -> None:
    account = await sign_up(gateway)
    nc = await nats.connect(nats_url)
    await nc.jetstream().delete_stream(subjects.STREAM)
    await nc.close()
    response = await gateway.post(STORES, json={"name": "shop-one", "engine": "woocommerce"}, headers=account.headers)
    assert_error(response, 503, "bus_unavailable")
    assert response.headers["retry-after"] == "3"
    ready = await gateway.get("/ready")
    assert ready.status_code == 503 and "STORES" in ready.json()["checks"]["nats"]


async def test_ready_health_and_metrics_with_real_dependencies(
    gateway: AsyncTestClient[Litestar], status_responder: StatusResponder
) -> None:
    ready = await gateway.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"nats": "ok", "postgres": "ok", "status": "ok"}}
    assert GetStore(store_id=PROBE_STORE_ID, owner_id="") in status_responder.queries  # a query for no data
    assert (await gateway.get("/health")).json() == {"status": "ok"}
    assert (await gateway.get("/metrics")).status_code == 200


async def test_not_ready_while_the_status_service_does_not_answer(
    gateway: AsyncTestClient[Litestar], status_responder: StatusResponder
) -> None:
    status_responder.silent = True
    ready = await gateway.get("/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["error"]["code"] == "not_ready" and "status not answering" in body["error"]["message"]
    assert body["checks"]["nats"] == body["checks"]["postgres"] == "ok"
    status_responder.silent = False
    assert (await gateway.get("/ready")).status_code == 200
