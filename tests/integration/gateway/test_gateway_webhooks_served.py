"""The webhook routes end to end below the cluster: the gateway under uvicorn on loopback, the real status
service and the real notifier beside it on the real NATS and Postgres, and a real receiver process
that verifies every signature with `standardwebhooks`.

A store ordered through the API reaches the receiver as signed `store.requested` ... `store.ready`
messages; a test message's attempt shows in the deliveries; another user's endpoint answers exactly
like a missing one; scopes, the cap and the notifier's refusals are answered as documented; and a
notifier that is gone is a 503, not a hang.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.local.servers import free_port
from storeplane_contracts import events
from storeplane_contracts.subjects import event_token
from storeplane_gateway.settings import GatewaySettings
from storeplane_notifier.bootstrap import NotifierService, bootstrap
from storeplane_notifier.settings import NotifierSettings
from storeplane_status.bootstrap import bootstrap as status_bootstrap
from storeplane_status.settings import StatusSettings
from tests.integration.gateway.buses import connected_bus, until
from tests.integration.gateway.support import served
from tests.integration.notifier.support import Receiver, start_receiver
from tests.unit.gateway.helpers import Account, assert_error, sign_up

pytestmark = pytest.mark.integration

WEBHOOKS = "/api/v1/webhooks"
CAP = 2


@dataclass
class Platform:
    """The served gateway, the notifier beside it, and the NATS they share."""

    http: httpx.AsyncClient
    notifier: NotifierService
    nats_url: str


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(secrets: list[str], port: int, host: str = "127.0.0.1") -> Receiver:
        receiver = start_receiver(tmp_path / f"received-{len(started)}.jsonl", secrets, port=port, host=host)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.process.kill()
        receiver.process.wait()


@pytest.fixture
async def platform(clean_audit: str, database_url: str, tracing: None) -> AsyncIterator[Platform]:
    gateway = GatewaySettings(nats_url=clean_audit, database_url=database_url, query_timeout=2.0, retry_after_seconds=3)
    status = StatusSettings(nats_url=clean_audit, database_url=database_url, graceful_timeout=5.0)
    notifier = NotifierSettings(
        nats_url=clean_audit,
        database_url=database_url,
        webhook_allowed_targets=("127.0.0.1", "::1"),
        webhook_max_endpoints=CAP,
        webhook_retry_schedule=(0.2, 0.2),
        webhook_retry_jitter=0.0,
        webhook_timeout=2.0,
        scheduler_interval=0.1,
        notifier_metrics_port=0,
        graceful_timeout=2.0,
    )
    async with (
        status_bootstrap(status),
        bootstrap(notifier) as service,
        served(gateway) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        yield Platform(http, service, clean_audit)


async def add_webhook(http: httpx.AsyncClient, owner: Account, url: str, events: list[str]) -> dict[str, Any]:
    response = await http.post(
        WEBHOOKS, json={"url": url, "events": events, "description": "it"}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def test_a_stores_lifecycle_arrives_signed(platform: Platform, receivers: Callable[..., Receiver]) -> None:
    http = platform.http
    ada = await sign_up(http)
    port = free_port()
    made = await add_webhook(http, ada, f"http://127.0.0.1:{port}/hooks", ["*"])
    assert made["secret"].startswith("whsec_")
    receiver = receivers([made["secret"]], port)

    ordered = await http.post(
        "/api/v1/stores", json={"name": "hooked-shop", "engine": "woocommerce"}, headers=ada.headers
    )
    assert ordered.status_code == 202, ordered.text
    store_id = ordered.json()["id"]
    # What the provisioner would publish next (it is not running here).
    async with connected_bus(platform.nats_url) as bus:
        await bus.publish(events.ProvisioningStarted(store_id=store_id, owner_id=ada.id))
        urls = {"storefront": "http://hooked-shop.localhost/"}
        await bus.publish(events.StoreReady(store_id=store_id, owner_id=ada.id, urls=urls))

    [ready] = await receiver.wait_for(1, type="store.ready")
    got = receiver.received()
    assert [entry["type"] for entry in got] == ["store.requested", "store.provisioning", "store.ready"]
    assert all(entry["verified"] == [True] for entry in got)  # the secret shown once verifies every signature
    assert ready["signature"].startswith("v1,") and ready["id"]
    data = ready["body"]["data"]
    assert data["store_id"] == store_id
    assert data["name"] == "hooked-shop" and data["status"] == "ready" and data["urls"] == urls

    async def logged() -> bool:
        page = (await http.get(f"{WEBHOOKS}/{made['id']}/deliveries", headers=ada.headers)).json()
        return any(d["status"] == "succeeded" and d["event_type"] == "store.ready" for d in page["deliveries"])

    await until(logged)


async def test_a_test_message_is_delivered_and_its_attempt_logged(
    platform: Platform, receivers: Callable[..., Receiver]
) -> None:
    http = platform.http
    ada = await sign_up(http)
    port = free_port()
    made = await add_webhook(http, ada, f"http://127.0.0.1:{port}/hooks", ["store.ready"])
    receiver = receivers([made["secret"]], port)

    tested = await http.post(f"{WEBHOOKS}/{made['id']}/test", headers=ada.headers)
    assert tested.status_code == 202, tested.text
    [arrived] = await receiver.wait_for(1, type="webhook.test")
    assert arrived["id"] == tested.json()["id"] and arrived["verified"] == [True]

    async def attempted() -> list[dict[str, Any]]:
        page = (await http.get(f"{WEBHOOKS}/{made['id']}/deliveries", headers=ada.headers)).json()
        return [d for d in page["deliveries"] if d["id"] == tested.json()["id"] and d["status"] == "succeeded"]

    async def succeeded() -> bool:
        return bool(await attempted())

    await until(succeeded)
    [delivery] = await attempted()
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 204 and attempt["succeeded"] and attempt["latency_ms"] >= 0

    resent = await http.post(f"{WEBHOOKS}/{made['id']}/deliveries/{delivery['id']}/resend", headers=ada.headers)
    assert resent.status_code == 202, resent.text
    again = await receiver.wait_for(2, type="webhook.test")
    assert {entry["id"] for entry in again} == {delivery["id"]}  # the same webhook-id


async def test_an_ipv6_address_in_brackets_is_a_target_like_any_other(
    platform: Platform, receivers: Callable[..., Receiver]
) -> None:
    """http://[::1]:PORT/ passes the gateway's URL form, the notifier's allow-list check and is delivered to."""
    http = platform.http
    ada = await sign_up(http)
    port = free_port()
    made = await add_webhook(http, ada, f"http://[::1]:{port}/hooks", ["store.ready"])
    receiver = receivers([made["secret"]], port, host="::1")

    tested = await http.post(f"{WEBHOOKS}/{made['id']}/test", headers=ada.headers)
    assert tested.status_code == 202, tested.text
    [arrived] = await receiver.wait_for(1, type="webhook.test")
    assert arrived["id"] == tested.json()["id"] and arrived["verified"] == [True]


async def test_owners_scopes_cap_and_refusals(platform: Platform) -> None:
    http = platform.http
    ada, bob = await sign_up(http), await sign_up(http, "bob@example.com")
    url = f"http://127.0.0.1:{free_port()}/hooks"
    made = await add_webhook(http, ada, url, ["store.ready"])
    missing = "6f1c3a2e-9d4b-4c8e-a1f0-2b3c4d5e6f70"

    theirs = await http.get(f"{WEBHOOKS}/{made['id']}", headers=bob.headers)
    nothing = await http.get(f"{WEBHOOKS}/{missing}", headers=bob.headers)
    assert assert_error(theirs, 404, "webhook_not_found") == assert_error(nothing, 404, "webhook_not_found")
    assert theirs.content == nothing.content
    assert (await http.get(WEBHOOKS, headers=bob.headers)).json() == {"webhooks": []}

    tokens = {}
    for scopes in (["stores:read"], ["webhooks:read"]):
        response = await http.post("/api/v1/tokens", json={"name": scopes[0], "scopes": scopes}, headers=ada.headers)
        tokens[scopes[0]] = {"Authorization": f"Bearer {response.json()['token']}"}
    body = {"url": url, "events": ["*"]}
    assert_error(await http.get(WEBHOOKS, headers=tokens["stores:read"]), 403, "insufficient_scope")
    assert_error(await http.post(WEBHOOKS, json=body, headers=tokens["webhooks:read"]), 403, "insufficient_scope")
    listed = await http.get(WEBHOOKS, headers=tokens["webhooks:read"])
    assert [endpoint["id"] for endpoint in listed.json()["webhooks"]] == [made["id"]]

    refused = await http.post(WEBHOOKS, json={"url": "http://127.0.0.2:9/hooks", "events": ["*"]}, headers=ada.headers)
    assert "127.0.0.2" in assert_error(refused, 422, "target_refused")
    unknown = await http.post(WEBHOOKS, json={"url": url, "events": ["store.exploded"]}, headers=ada.headers)
    assert "store.exploded" in assert_error(unknown, 422, "invalid_events")
    assert_error(
        await http.post(WEBHOOKS, json={"url": "nope", "events": ["*"]}, headers=ada.headers), 422, "invalid_url"
    )

    await add_webhook(http, ada, url, ["*"])  # the second of CAP
    assert_error(await http.post(WEBHOOKS, json=body, headers=ada.headers), 409, "webhook_limit_reached")


async def test_a_notifier_that_is_gone_is_a_503(platform: Platform) -> None:
    ada = await sign_up(platform.http)
    await platform.notifier.stop()
    response = await platform.http.get(WEBHOOKS, headers=ada.headers)
    assert_error(response, 503, "notifier_unavailable")
    assert response.headers["retry-after"] == "3"
    assert (await platform.http.get("/api/v1/stores", headers=ada.headers)).status_code == 200  # stores go on


async def test_the_served_asyncapi_document_lists_every_event_subject(platform: Platform) -> None:
    response = await platform.http.get("/schema/asyncapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {f"stores.*.{event_token(kind)}" for kind in events.EVENT_TYPES}
