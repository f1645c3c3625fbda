"""`Idempotency-Key` on create, delete and retry: a repeat replays the first answer and publishes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts.events import StoreDeletionRequested, StoreRequested, StoreRetryRequested
from storeplane_gateway.app import create_app
from storeplane_gateway.domain.idempotency import IdempotencyKey, KeyClaimed
from storeplane_gateway.http.errors import ApiError
from storeplane_gateway.http.idempotency import checked_key, fingerprint_of
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import STORES, Account, asgi_transport, assert_error, sign_up
from tests.unit.gateway.test_gateway_api_tokens import make_token

KEY = "0b7e8c3e-5bd1-4a3b-9d5e-7a8e8f0e1a11"
SHOP = {"name": "shop-one", "engine": "woocommerce"}
DAY = 24 * 3600


def keyed(account: Account, key: str = KEY) -> dict[str, str]:
    return {**account.headers, "Idempotency-Key": key}


def assert_same_answer(first: httpx.Response, again: httpx.Response) -> None:
    assert again.status_code == first.status_code
    assert again.content == first.content
    for header in ("content-type", "location", "x-stream-sequence", "x-trace-id"):
        assert again.headers.get(header) == first.headers.get(header), header
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-content-type-options"] == "nosniff"  # it left through the app's hooks


async def test_a_repeated_create_gets_the_first_answer_and_publishes_once(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    first = await client.post(STORES, json=SHOP, headers=keyed(ada))
    assert first.status_code == 202, first.text
    assert first.headers["location"] == f"{STORES}/{first.json()['id']}"
    again = await client.post(STORES, json=SHOP, headers=keyed(ada))
    assert_same_answer(first, again)
    [event] = fakes.bus.published
    assert isinstance(event, StoreRequested) and event.store_id == first.json()["id"]
    assert len(fakes.slots.slots) == 1
    # The replay is a command answered like any other: audited, with the store it names.
    creates = [entry for entry in fakes.audit.entries if entry.action == "create_store"]
    assert [(c.outcome, c.status_code, c.target) for c in creates] == [("succeeded", 202, event.store_id)] * 2


async def test_the_same_json_written_differently_is_the_same_request(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    first = await client.post(STORES, json=SHOP, headers=keyed(ada))
    reformatted = b'{ "engine" : "woocommerce",\n  "name": "shop-one" }'
    again = await client.post(STORES, content=reformatted, headers={**keyed(ada), "Content-Type": "application/json"})
    assert_same_answer(first, again)
    assert len(fakes.bus.published) == 1


async def test_the_same_key_with_another_body_is_409_reused(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    assert (await client.post(STORES, json=SHOP, headers=keyed(ada))).status_code == 202
    other = await client.post(STORES, json={"name": "shop-two", "engine": "woocommerce"}, headers=keyed(ada))
    assert "use a new key" in assert_error(other, 409, "idempotency_key_reused")
    assert len(fakes.bus.published) == 1
    assert [slot.name for slot in fakes.slots.slots.values()] == ["shop-one"]
    creates = [entry for entry in fakes.audit.entries if entry.action == "create_store"]
    assert [(c.outcome, c.error_code) for c in creates] == [("succeeded", ""), ("refused", "idempotency_key_reused")]


async def test_keys_are_per_user(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client, "ada@example.com")
    bob = await sign_up(client, "bob@example.com")
    adas = await client.post(STORES, json=SHOP, headers=keyed(ada))
    bobs = await client.post(STORES, json={"name": "shop-two", "engine": "woocommerce"}, headers=keyed(bob))
    assert (adas.status_code, bobs.status_code) == (202, 202), bobs.text
    assert "idempotent-replayed" not in bobs.headers
    assert [(e.owner_id, e.name) for e in fakes.bus.published if isinstance(e, StoreRequested)] == [
        (ada.id, "shop-one"),
        (bob.id, "shop-two"),
    ]


async def test_keys_are_per_operation_and_each_command_replays(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    failed = fakes.status.add_store(owner_id=ada.id, name="failed-shop", status="failed")
    ready = fakes.status.add_store(owner_id=ada.id, name="ready-shop", status="ready")
    commands = [
        ("POST", STORES, SHOP),
        ("POST", f"{STORES}/{failed.id}/retry", None),
        ("DELETE", f"{STORES}/{ready.id}", None),
        ("DELETE", f"{STORES}/{failed.id}", None),  # another store: another operation
    ]
    firsts = []
    for method, path, body in commands:  # one key for all of them
        response = await client.request(method, path, json=body, headers=keyed(ada))
        assert response.status_code == 202, f"{method} {path}: {response.text}"
        assert "idempotent-replayed" not in response.headers
        firsts.append(response)
    assert [type(event) for event in fakes.bus.published] == [
        StoreRequested,
        StoreRetryRequested,
        StoreDeletionRequested,
        StoreDeletionRequested,
    ]
    # The fake status service still says the stores are failed and ready: without the key, each
    # command would be taken again. With it, each gets its first answer and nothing is published.
    for (method, path, body), first in zip(commands, firsts, strict=True):
        assert_same_answer(first, await client.request(method, path, json=body, headers=keyed(ada)))
    assert len(fakes.bus.published) == 4
    deletes = [e for e in fakes.audit.entries if e.action == "delete_store" and e.target == ready.id]
    assert [(d.outcome, d.status_code) for d in deletes] == [("succeeded", 202)] * 2


async def test_without_a_key_every_command_runs(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    ready = fakes.status.add_store(owner_id=ada.id, name="ready-shop", status="ready")
    for _ in range(2):
        response = await client.delete(f"{STORES}/{ready.id}", headers=ada.headers)
        assert response.status_code == 202 and "idempotent-replayed" not in response.headers
    assert len(fakes.bus.published) == 2
    assert fakes.idempotency.rows == {}


async def test_a_503_frees_the_key_so_the_retry_runs_once(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    fakes.bus.connected = False
    down = await client.post(STORES, json=SHOP, headers=keyed(ada))
    assert_error(down, 503, "bus_unavailable")
    assert fakes.idempotency.rows == {} and fakes.slots.slots == {}
    fakes.bus.connected = True
    retried = await client.post(STORES, json=SHOP, headers=keyed(ada))
    assert retried.status_code == 202, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert_same_answer(retried, await client.post(STORES, json=SHOP, headers=keyed(ada)))
    [event] = fakes.bus.published
    assert event.store_id == retried.json()["id"]


async def test_a_refused_command_frees_the_key_for_a_corrected_request(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    invalid = await client.post(STORES, json={"name": "x!", "engine": "woocommerce"}, headers=keyed(ada))
    assert_error(invalid, 422, "invalid_name")
    corrected = await client.post(STORES, json=SHOP, headers=keyed(ada))
    assert corrected.status_code == 202, corrected.text
    assert len(fakes.bus.published) == 1


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (b"", "1 to 255 characters, not 0"),
        (b"k" * 256, "1 to 255 characters, not 256"),
        ("caf\u00e9".encode(), "printable ASCII"),
        (b"tab\there", "printable ASCII"),
    ],
)
async def test_an_invalid_key_is_400_and_runs_nothing(
    client: AsyncTestClient[Litestar], fakes: Fakes, value: bytes, fragment: str
) -> None:
    ada = await sign_up(client)
    headers = [*((name.encode(), text.encode()) for name, text in ada.headers.items()), (b"Idempotency-Key", value)]
    message = assert_error(await client.post(STORES, json=SHOP, headers=headers), 400, "invalid_idempotency_key")
    assert fragment in message and "Idempotency-Key" in message
    assert fakes.bus.published == [] and fakes.idempotency.rows == {}


def test_two_key_headers_are_refused() -> None:
    """Test clients join repeated headers into one value; servers such as uvicorn pass them on apart."""
    with pytest.raises(ApiError) as refused:
        checked_key(["one", "two"])
    assert (refused.value.status_code, refused.value.code) == (400, "invalid_idempotency_key")
    assert "send one Idempotency-Key header, not 2" in refused.value.message


@pytest.mark.parametrize("key", ["k", "order 42 / attempt #1", "~" * 255])
async def test_any_printable_ascii_key_of_up_to_255_characters_is_taken(
    client: AsyncTestClient[Litestar], fakes: Fakes, key: str
) -> None:
    ada = await sign_up(client)
    first = await client.post(STORES, json=SHOP, headers=keyed(ada, key))
    assert first.status_code == 202, first.text
    assert_same_answer(first, await client.post(STORES, json=SHOP, headers=keyed(ada, key)))


async def test_a_key_older_than_a_day_is_new_again(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    assert (await client.post(STORES, json=SHOP, headers=keyed(ada))).status_code == 202
    fakes.clock += DAY - 1
    other = {"name": "shop-two", "engine": "woocommerce"}
    assert_error(await client.post(STORES, json=other, headers=keyed(ada)), 409, "idempotency_key_reused")
    fakes.clock += 2
    later = await client.post(STORES, json=other, headers=keyed(ada))
    assert later.status_code == 202, later.text
    assert "idempotent-replayed" not in later.headers
    assert [e.name for e in fakes.bus.published if isinstance(e, StoreRequested)] == ["shop-one", "shop-two"]


async def test_a_read_only_token_gets_403_not_the_stored_answer(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    assert (await client.post(STORES, json=SHOP, headers=keyed(ada))).status_code == 202
    reader = await make_token(client, ada, "dashboard", ["stores:read"])
    refused = await client.post(STORES, json=SHOP, headers=keyed(reader))
    assert_error(refused, 403, "insufficient_scope")
    assert len(fakes.bus.published) == 1


async def test_a_database_outage_is_503_and_runs_nothing(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    fakes.idempotency.down = True
    assert_error(await client.post(STORES, json=SHOP, headers=keyed(ada)), 503, "database_unavailable")
    assert fakes.bus.published == [] and fakes.slots.slots == {}
    assert (await client.post(STORES, json=SHOP, headers=ada.headers)).status_code == 202  # no key, no database


@asynccontextmanager
async def concurrent_client(fakes: Fakes, settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The app on this test's event loop, so that requests overlap (Litestar's test client runs one at a time)."""
    app = create_app(settings, adapters=fakes.factory())
    async with app.lifespan(), httpx.AsyncClient(transport=asgi_transport(app), base_url="http://api") as c:
        yield c


async def test_a_repeat_while_the_first_is_in_flight_is_409_in_use(fakes: Fakes, settings: GatewaySettings) -> None:
    fakes.bus.gate = asyncio.Event()
    async with concurrent_client(fakes, settings) as client:
        ada = await sign_up(client)
        first = asyncio.create_task(client.post(STORES, json=SHOP, headers=keyed(ada)))
        async with asyncio.timeout(5):
            await fakes.bus.at_gate.wait()  # the first request holds the key and waits to publish
        in_use = await client.post(STORES, json=SHOP, headers=keyed(ada))
        assert "still being processed" in assert_error(in_use, 409, "idempotency_key_in_use")
        assert in_use.headers["retry-after"] == "1"
        fakes.bus.gate.set()
        answered = await first
        assert answered.status_code == 202, answered.text
        assert_same_answer(answered, await client.post(STORES, json=SHOP, headers=keyed(ada)))
    assert len(fakes.bus.published) == 1


async def test_an_answer_the_database_could_not_keep_still_reaches_the_client(
    fakes: Fakes, settings: GatewaySettings
) -> None:
    fakes.bus.gate = asyncio.Event()
    async with concurrent_client(fakes, settings) as client:
        ada = await sign_up(client)
        first = asyncio.create_task(client.post(STORES, json=SHOP, headers=keyed(ada)))
        async with asyncio.timeout(5):
            await fakes.bus.at_gate.wait()
        fakes.idempotency.down = True  # after the claim, before the answer is kept
        fakes.bus.gate.set()
        answered = await first
        assert answered.status_code == 202, answered.text
        fakes.idempotency.down = False
        # The key stays claimed until its lease ends; then the command runs again, and the name,
        # held by the store just ordered, keeps it from making a second one.
        assert_error(await client.post(STORES, json=SHOP, headers=keyed(ada)), 409, "idempotency_key_in_use")
        fakes.clock += settings.idempotency_lease_seconds + 1
        assert_error(await client.post(STORES, json=SHOP, headers=keyed(ada)), 409, "name_taken")
    assert len(fakes.bus.published) == 1


async def test_a_claim_its_gateway_never_settled_is_free_after_the_lease(
    client: AsyncTestClient[Litestar], fakes: Fakes, settings: GatewaySettings
) -> None:
    ada = await sign_up(client)
    body = b'{"name":"shop-one","engine":"woocommerce"}'
    operation = "POST /api/v1/stores"
    # A gateway claimed the key for this very request and died before it answered.
    abandoned = await fakes.idempotency.claim(
        IdempotencyKey(principal_id=ada.id, operation=operation, key=KEY),
        fingerprint_of(operation, body),
        ttl=settings.idempotency_ttl_seconds,
        lease=settings.idempotency_lease_seconds,
    )
    assert isinstance(abandoned, KeyClaimed)
    assert_error(await client.post(STORES, json=SHOP, headers=keyed(ada)), 409, "idempotency_key_in_use")
    fakes.clock += settings.idempotency_lease_seconds + 1
    taken_over = await client.post(STORES, json=SHOP, headers=keyed(ada))
    assert taken_over.status_code == 202, taken_over.text
    assert len(fakes.bus.published) == 1


async def test_the_header_and_its_409s_are_documented_on_the_commands_only(client: AsyncTestClient[Litestar]) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    commands = [
        paths[STORES]["post"],
        paths[f"{STORES}/{{store_id}}"]["delete"],
        paths[f"{STORES}/{{store_id}}/retry"]["post"],
    ]
    for operation in commands:
        [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and header["required"] is False
        assert "24 hours" in header["description"]
        assert header["schema"]["maxLength"] == 255
        assert "idempotency_key_reused" in operation["responses"]["409"]["description"]
        assert "idempotency_key_in_use" in operation["responses"]["409"]["description"]
        assert "invalid_idempotency_key" in operation["responses"]["400"]["description"]
        assert "Idempotent-Replayed" in operation["responses"]["202"]["headers"]
    reads = [paths[STORES]["get"], paths[f"{STORES}/{{store_id}}"]["get"]]
    assert not any(p["name"] == "Idempotency-Key" for op in reads for p in op.get("parameters", []))
