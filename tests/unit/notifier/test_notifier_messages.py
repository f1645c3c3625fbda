"""Store events as webhook messages: every event has a type, the facts fold, bodies stay small."""

from __future__ import annotations

import json
from typing import Any, TypedDict

import pytest

from storeplane_contracts import events
from storeplane_contracts.webhooks import WEBHOOK_EVENT_TYPES
from storeplane_notifier import messages


class Ids(TypedDict):
    """Whose store an event is about."""

    store_id: str
    owner_id: str


IDS = Ids(store_id="s-1", owner_id="o-1")


def test_every_store_event_is_mapped_to_a_webhook_type_or_deliberately_not() -> None:
    assert set(messages.WEBHOOK_TYPE) == set(events.EVENT_TYPES)
    mapped = {t for t in messages.WEBHOOK_TYPE.values() if t is not None}
    assert mapped | {"store.repaired"} == set(WEBHOOK_EVENT_TYPES)


def requested() -> events.StoreRequested:
    return events.StoreRequested(**IDS, name="shop", engine="medusa", namespace="store-s-1", trace_id="t" * 32)


def test_the_ready_message_names_the_store_in_full_though_the_event_only_has_urls() -> None:
    first = messages.plan(requested(), None, trace_id="")
    ready = events.StoreReady(**IDS, urls={"storefront": "http://shop.local"})
    planned = messages.plan(ready, first.facts, trace_id="abc")
    assert planned.event_type == "store.ready"
    body = json_of(planned.body)
    assert body["type"] == "store.ready"
    assert body["data"] | {"event_id": ""} == {
        "store_id": "s-1",
        "name": "shop",
        "engine": "medusa",
        "status": "ready",
        "urls": {"storefront": "http://shop.local"},
        "error": None,
        "trace_id": "abc",
        "event_id": "",
    }


def test_ready_after_degraded_is_repaired_and_a_failure_carries_its_error() -> None:
    facts = messages.plan(requested(), None, trace_id="").facts
    degraded = events.StoreDegraded(
        **IDS, name="shop", engine="medusa", namespace="store-s-1", reason="drift", message="quota changed"
    )
    after = messages.plan(degraded, facts, trace_id="")
    assert after.event_type == "store.degraded" and after.facts.status == "degraded"
    repaired = messages.plan(events.StoreReady(**IDS, urls={}), after.facts, trace_id="")
    assert repaired.event_type == "store.repaired" and repaired.facts.status == "ready"
    failed = events.ProvisioningFailed(**IDS, step="chart", reason="chart_failed", message="boom", retryable=True)
    planned = messages.plan(failed, facts, trace_id="")
    assert planned.event_type == "store.failed"
    assert json_of(planned.body)["data"]["error"] == {
        "step": "chart",
        "reason": "chart_failed",
        "message": "boom",
        "retryable": True,
    }


def test_revealed_credentials_are_not_told_to_integrations() -> None:
    planned = messages.plan(events.CredentialsRevealed(**IDS), None, trace_id="")
    assert planned.event_type is None and planned.body == b""


def test_long_free_text_is_cut() -> None:
    retrying = events.StepRetrying(
        **IDS,
        step="namespace_deletion",
        reason="stuck",
        message="x" * 50_000,
        attempt=1,
        max_attempts=3,
        retry_in_seconds=1,
    )
    data = json_of(messages.plan(retrying, None, trace_id="").body)["data"]
    assert data["step"] == "namespace_deletion" and len(data["message"]) == messages.MAX_TEXT


def test_a_stalled_step_is_a_step_message_with_its_findings_and_keeps_the_status() -> None:
    facts = messages.plan(
        events.ProvisioningStarted(**IDS), messages.plan(requested(), None, trace_id="").facts, trace_id=""
    )
    finding = events.StallFinding(
        kind="claim_unbound", object="PersistentVolumeClaim/data-db-0", reason="ProvisioningFailed", message="no class"
    )
    stalled = events.StepStalled(
        **IDS, step="readiness", running_for_seconds=61.2, threshold_seconds=60, findings=[finding]
    )
    planned = messages.plan(stalled, facts.facts, trace_id="")
    data = json_of(planned.body)["data"]
    assert planned.event_type == "store.step" and data["status"] == "provisioning"
    assert (data["step"], data["stalled"], data["running_for_seconds"], data["threshold_seconds"]) == (
        "readiness",
        True,
        61.2,
        60,
    )
    assert data["findings"] == [
        {
            "kind": "claim_unbound",
            "object": "PersistentVolumeClaim/data-db-0",
            "reason": "ProvisioningFailed",
            "message": "no class",
        }
    ]


@pytest.mark.parametrize("urls", [1, 100])
def test_a_body_stays_below_20_kB_keeping_which_store_it_is(urls: int) -> None:
    facts = messages.plan(requested(), None, trace_id="").facts
    ready = events.StoreReady(**IDS, urls={f"u{i}": "http://" + "x" * 500 for i in range(urls)})
    body = messages.plan(ready, facts, trace_id="").body
    assert len(body) < messages.MAX_BODY_BYTES
    data = json_of(body)["data"]
    assert data["store_id"] == "s-1" and data["status"] == "ready"
    assert data.get("truncated", False) is (urls == 100)


def test_subscriptions_match_a_type_or_everything() -> None:
    assert messages.subscribed(["*"], "store.step")
    assert messages.subscribed(["store.ready"], "store.ready")
    assert not messages.subscribed(["store.ready"], "store.step")


def json_of(body: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(body)
    return decoded
