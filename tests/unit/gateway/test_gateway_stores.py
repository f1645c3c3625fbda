"""Stores through the API with fake adapters: the HTTP answers (bodies, headers, status codes, the
404/409 refusals). The rules behind them are tested on the service: test_gateway_store_service.py."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts import naming
from storeplane_contracts.events import StoreDeletionRequested, StoreRequested, StoreRetryRequested
from storeplane_contracts.queries import StoreStatus, TimelineEntry
from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import assert_error, sign_up

STORES = "/api/v1/stores"


async def test_create_publishes_store_requested_and_answers_202(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    account = await sign_up(client)
    response = await client.post(STORES, json={"name": " Ada Shop", "engine": "woocommerce"}, headers=account.headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"id", "name", "engine", "status", "namespace", "created_at", "urls", "error"}
    assert body["name"] == "ada-shop"
    assert body["status"] == "requested"
    assert body["urls"] == {} and body["error"] is None
    assert body["namespace"] == naming.namespace_for("ada-shop", body["id"])
    assert response.headers["location"] == f"{STORES}/{body['id']}"
    assert response.headers["x-stream-sequence"] == "1"
    assert "x-trace-id" in response.headers
    [event] = fakes.bus.published
    assert isinstance(event, StoreRequested)
    assert (event.store_id, event.owner_id, event.name, event.engine, event.namespace) == (
        body["id"],
        account.id,
        "ada-shop",
        "woocommerce",
        body["namespace"],
    )
    assert str(uuid.UUID(event.store_id)) == event.store_id


# Each rule a name may break: test_gateway_store_service.py; here, the answer.
@pytest.mark.parametrize(("name", "fragment"), [("my--shop", "two hyphens")])
async def test_invalid_names_are_422_with_the_rule(
    client: AsyncTestClient[Litestar], fakes: Fakes, name: str, fragment: str
) -> None:
    account = await sign_up(client)
    response = await client.post(STORES, json={"name": name, "engine": "woocommerce"}, headers=account.headers)
    assert fragment in assert_error(response, 422, "invalid_name")
    assert fakes.bus.published == []


async def test_a_known_engine_that_is_not_installable_yet_says_so(client: AsyncTestClient[Litestar]) -> None:
    account = await sign_up(client)
    response = await client.post(STORES, json={"name": "shop-one", "engine": "medusa"}, headers=account.headers)
    message = assert_error(response, 422, "unsupported_engine")
    assert "not installable yet" in message and "woocommerce" in message


async def test_an_unknown_engine_lists_the_supported_ones(client: AsyncTestClient[Litestar]) -> None:
    account = await sign_up(client)
    response = await client.post(STORES, json={"name": "shop-one", "engine": "shopify"}, headers=account.headers)
    message = assert_error(response, 422, "unsupported_engine")
    assert "unknown engine 'shopify'" in message and "supported engines: woocommerce" in message


async def test_installable_engines_come_from_the_settings(fakes: Fakes) -> None:
    settings = GatewaySettings(installable_engines=("woocommerce", "medusa"))
    async with AsyncTestClient(app=create_app(settings, adapters=fakes.factory())) as client:
        account = await sign_up(client)
        response = await client.post(STORES, json={"name": "shop-one", "engine": "medusa"}, headers=account.headers)
    assert response.status_code == 202, response.text
    [request] = fakes.bus.published
    assert isinstance(request, StoreRequested) and request.engine == "medusa"


async def test_bus_down_is_503_and_nothing_is_published(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    account = await sign_up(client)
    fakes.bus.connected = False
    response = await client.post(STORES, json={"name": "shop-one", "engine": "woocommerce"}, headers=account.headers)
    assert_error(response, 503, "bus_unavailable")
    assert response.headers["retry-after"] == "7"
    assert fakes.bus.published == []


async def test_status_down_is_503_for_creates_and_reads(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    account = await sign_up(client)
    fakes.status.available = False
    create = await client.post(STORES, json={"name": "shop-one", "engine": "woocommerce"}, headers=account.headers)
    listing = await client.get(STORES, headers=account.headers)
    for response in (create, listing):
        assert_error(response, 503, "status_unavailable")
        assert response.headers["retry-after"] == "7"


async def test_list_shows_only_the_callers_stores(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client, "ada@example.com")
    mine = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    fakes.status.add_store(owner_id="someone-else", name="shop-two")
    response = await client.get(STORES, headers=ada.headers)
    assert response.status_code == 200
    [store] = response.json()["stores"]
    assert store["id"] == mine.id
    assert store["urls"] == {
        "storefront": "http://shop-one.stores.localhost/",
        "admin": "http://shop-one.stores.localhost/wp-admin/",
    }
    assert "owner_id" not in store


async def test_get_returns_the_store_and_passes_min_sequence(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    fakes.bus.by_others = 50
    response = await client.get(f"{STORES}/{store.id}", headers={**ada.headers, "X-Min-Sequence": "42"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"
    assert fakes.status.min_sequences == [42]


async def test_another_users_store_looks_exactly_like_a_missing_one(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client, "ada@example.com")
    bob = await sign_up(client, "bob@example.com")
    adas = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    missing = str(uuid.uuid4())
    for path in ("", "/events"):
        foreign = await client.get(f"{STORES}/{adas.id}{path}", headers=bob.headers)
        absent = await client.get(f"{STORES}/{missing}{path}", headers=bob.headers)
        assert_error(foreign, 404, "store_not_found")
        assert_error(absent, 404, "store_not_found")
        assert foreign.json()["error"]["message"].replace(adas.id, "ID") == absent.json()["error"]["message"].replace(
            missing, "ID"
        )
    foreign_delete = await client.delete(f"{STORES}/{adas.id}", headers=bob.headers)
    assert_error(foreign_delete, 404, "store_not_found")
    assert fakes.bus.published == []


@pytest.mark.parametrize("raw", ["not-a-uuid", "123", "%20", "0b7e8c3e-5bd1-4a3b-9d5e"])
async def test_a_malformed_id_is_404(client: AsyncTestClient[Litestar], raw: str) -> None:
    ada = await sign_up(client)
    for response in (
        await client.get(f"{STORES}/{raw}", headers=ada.headers),
        await client.get(f"{STORES}/{raw}/events", headers=ada.headers),
        await client.delete(f"{STORES}/{raw}", headers=ada.headers),
    ):
        assert_error(response, 404, "store_not_found")


async def test_events_come_oldest_first(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    entries = [
        TimelineEntry(event_id=str(uuid.uuid4()), type=kind, occurred_at=store.created_at, sequence=sequence)
        for kind, sequence in (("StoreReady", 9), ("StoreRequested", 3), ("NamespaceCreated", 5))
    ]
    fakes.status.timelines[store.id] = entries
    fakes.bus.by_others = 9
    response = await client.get(f"{STORES}/{store.id}/events", headers={**ada.headers, "X-Min-Sequence": "9"})
    assert response.status_code == 200, response.text
    assert [event["type"] for event in response.json()["events"]] == [
        "StoreRequested",
        "NamespaceCreated",
        "StoreReady",
    ]
    assert fakes.status.min_sequences[-1] == 9


async def test_delete_publishes_the_request_and_answers_202(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    response = await client.delete(f"{STORES}/{store.id}", headers=ada.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "deleting"
    assert response.headers["x-stream-sequence"] == "1"
    [event] = fakes.bus.published
    assert isinstance(event, StoreDeletionRequested)
    assert (event.store_id, event.owner_id, event.namespace) == (store.id, ada.id, store.namespace)


@pytest.mark.parametrize("status", ["provisioning"])  # both statuses: test_gateway_store_service.py
async def test_a_store_being_provisioned_cannot_be_deleted_yet(
    client: AsyncTestClient[Litestar], fakes: Fakes, status: StoreStatus
) -> None:
    """A deletion now would race the provisioning steps (a namespace made after it ran would be left behind)."""
    ada = await sign_up(client)
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one", status=status)
    response = await client.delete(f"{STORES}/{store.id}", headers=ada.headers)
    message = assert_error(response, 409, "store_busy")
    assert "being provisioned" in message and "once it is ready or failed" in message
    assert fakes.bus.published == []


async def test_credentials_are_shown_once_and_only_to_the_owner(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    owner = await sign_up(client)
    store = fakes.status.add_store(owner_id=owner.id, name="shop-one", status="ready")
    path = f"/api/v1/stores/{store.id}/credentials"
    stranger = await sign_up(client, email="eve@example.com")
    assert (await client.get(path, headers=stranger.headers)).status_code == 404
    first = await client.get(path, headers=owner.headers)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "username": "admin",
        "password": "s3cret",
        "email": "a@b.c",
        "admin_url": "http://shop-one.stores.localhost/wp-admin/",
    }
    assert first.headers["cache-control"] == "no-store"
    again = await client.get(path, headers=owner.headers)
    assert again.status_code == 410 and again.json()["error"]["code"] == "credentials_already_revealed"


async def test_credentials_the_provisioner_cannot_read_stay_unrevealed(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    owner = await sign_up(client)
    store = fakes.status.add_store(owner_id=owner.id, name="shop-one", status="ready")
    fakes.secrets.cluster_down = True
    refused = await client.get(f"/api/v1/stores/{store.id}/credentials", headers=owner.headers)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "provisioner_unavailable"
    assert "nothing was revealed" in refused.json()["error"]["message"]
    fakes.secrets.cluster_down = False
    later = await client.get(f"/api/v1/stores/{store.id}/credentials", headers=owner.headers)
    assert later.status_code == 200, later.text


async def test_credentials_wait_for_a_ready_store(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    owner = await sign_up(client)
    store = fakes.status.add_store(owner_id=owner.id, name="shop-two", status="provisioning")
    response = await client.get(f"/api/v1/stores/{store.id}/credentials", headers=owner.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "store_not_ready"


async def test_a_failed_store_can_be_retried_and_nothing_else(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    owner = await sign_up(client)
    failed = fakes.status.add_store(owner_id=owner.id, name="shop-one", status="failed")
    response = await client.post(f"{STORES}/{failed.id}/retry", headers=owner.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "provisioning"
    [event] = [e for e in fakes.bus.published if isinstance(e, StoreRetryRequested)]
    assert (event.store_id, event.name, event.namespace) == (failed.id, "shop-one", failed.namespace)
    ready = fakes.status.add_store(owner_id=owner.id, name="shop-two", status="ready")
    refused = await client.post(f"{STORES}/{ready.id}/retry", headers=owner.headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_failed"
    stranger = await sign_up(client, email="eve@example.com")
    assert (await client.post(f"{STORES}/{failed.id}/retry", headers=stranger.headers)).status_code == 404
