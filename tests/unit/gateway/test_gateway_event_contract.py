"""The AsyncAPI document at /schema/asyncapi.json: every event subject, with a payload schema that the
events the services publish actually meet, and every reference in it resolving."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts import events
from storeplane_contracts.events import EVENT_TYPES, Event
from storeplane_gateway.adapters.nats.event_contract import event_subject
from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes

STORE = "0d6f8a52-3c1e-4f7e-9a61-5b8d3f0c2e11"
# One event of each type, as a service would publish it.
SAMPLES: list[Event] = [
    events.StoreRequested(store_id=STORE, owner_id="u", name="shop", engine="woocommerce", namespace="ns"),
    events.ProvisioningStarted(store_id=STORE, owner_id="u"),
    events.NamespaceCreated(store_id=STORE, owner_id="u", namespace="ns"),
    events.QuotaApplied(store_id=STORE, owner_id="u", namespace="ns", hard={"cpu": "2"}),
    events.LimitsApplied(store_id=STORE, owner_id="u", namespace="ns"),
    events.NetworkPolicyApplied(store_id=STORE, owner_id="u", namespace="ns"),
    events.CredentialsCreated(store_id=STORE, owner_id="u", namespace="ns", secret="store-admin"),
    events.ChartInstalled(store_id=STORE, owner_id="u", namespace="ns", release="r", chart="c", revision=1),
    events.StoreReady(store_id=STORE, owner_id="u", urls={"storefront": "http://shop.localhost/"}),
    events.CredentialsRevealed(store_id=STORE, owner_id="u"),
    events.ProvisioningFailed(store_id=STORE, owner_id="u", step="chart", reason="r", message="m", retryable=True),
    events.StepRetrying(
        store_id=STORE,
        owner_id="u",
        step="chart",
        reason="r",
        message="m",
        attempt=1,
        max_attempts=3,
        retry_in_seconds=2.0,
    ),
    events.StepStalled(
        store_id=STORE,
        owner_id="u",
        step="readiness",
        running_for_seconds=61.0,
        threshold_seconds=60.0,
        findings=[events.StallFinding(kind="pod_waiting", object="Pod/web-0", reason="ImagePullBackOff", message="m")],
    ),
    events.StoreRetryRequested(store_id=STORE, owner_id="u", name="shop", engine="medusa", namespace="ns"),
    events.StoreDegraded(
        store_id=STORE, owner_id="u", name="shop", engine="medusa", namespace="ns", reason="r", message="m"
    ),
    events.StoreDeletionRequested(store_id=STORE, owner_id="u", namespace="ns"),
    events.ReleaseUninstalled(store_id=STORE, owner_id="u", namespace="ns", release="r"),
    events.StoreDeleted(store_id=STORE, owner_id="u", namespace="ns"),
    events.DeletionFailed(store_id=STORE, owner_id="u", step="uninstall", reason="r", message="m", retryable=False),
]


@pytest.fixture
async def document(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    response = await client.get("/schema/asyncapi.json")  # no token: it is public, like the OpenAPI schema
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_event_type_has_a_sample() -> None:
    assert {type(sample) for sample in SAMPLES} == set(EVENT_TYPES)


def test_the_document_is_asyncapi_3_with_every_event_subject(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] and document["info"]["version"] == "1.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {f"stores.*.{name}" for name in _tokens()}
    for operation in document["operations"].values():
        assert operation["action"] == "send"
    [server] = document["servers"].values()
    assert (server["host"], server["protocol"]) == ("nats:4222", "nats")  # the chart's address


async def test_the_gateways_own_nats_url_is_never_in_it(fakes: Fakes) -> None:
    settings = GatewaySettings(nats_url="nats://gateway:hunter2@127.0.0.1:4333")
    async with AsyncTestClient(app=create_app(settings, adapters=fakes.factory())) as client:
        document = (await client.get("/schema/asyncapi.json")).text
    assert "hunter2" not in document and "4333" not in document


def _tokens() -> set[str]:
    return {event_subject(kind).removeprefix("stores.*.") for kind in EVENT_TYPES}


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = set(_refs(document))
    assert len(refs) > len(EVENT_TYPES)
    for ref in refs:
        assert _resolve(document, ref) is not None


def _payload_schema(document: dict[str, Any], kind: type[Event]) -> dict[str, Any]:
    [channel] = [c for c in document["channels"].values() if c["address"] == event_subject(kind)]
    [message] = channel["messages"].values()
    schema: dict[str, Any] = _resolve(document, _resolve(document, message["$ref"])["payload"]["$ref"])
    return schema


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: type(sample).__name__)
def test_each_payload_schema_takes_its_event_and_refuses_another(document: dict[str, Any], sample: Event) -> None:
    schema = _payload_schema(document, type(sample))
    validator = jsonschema_rs.validator_for(schema)
    assert validator.is_valid(events.to_builtins(sample)), list(validator.iter_errors(events.to_builtins(sample)))
    other = SAMPLES[(SAMPLES.index(sample) + 1) % len(SAMPLES)]
    assert not validator.is_valid(events.to_builtins(other))  # its `type` tag is another's
