"""After one store is provisioned on the platform (every service exporting to a real Jaeger and scraped by a
real VictoriaMetrics, as under `make up`): its trace holds the gateway's, provisioner's and status service's
spans, only its owner and admins may read it, every named metric exists, and every dashboard and alert
expression evaluates against the real metrics store, returning data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from infra.local.servers import free_port
from tests.e2e.conftest import Observability
from tests.e2e.test_store_lifecycle import register, wait_for_store
from tests.e2e.test_webhook_walkthrough import ReceiverProcess
from tests.observability_expressions import alert_rules, dashboard_expressions, measured_side

pytestmark = pytest.mark.e2e

NAMED_METRICS = (
    'storeplane_provisioning_duration_seconds_count{outcome="ready"}',
    "storeplane_step_duration_seconds_count",
    "storeplane_stores",
    "storeplane_provisioning_failures_total",
    "storeplane_step_retries_total",
    "storeplane_consumer_pending",
    "storeplane_consumer_redeliveries_total",
    "storeplane_projection_lag_events",
    "storeplane_helm_call_duration_seconds_count",
    "storeplane_kubernetes_call_duration_seconds_count",
    "storeplane_webhook_deliveries_total",
    "storeplane_webhook_delivery_seconds_count",
    "storeplane_database_pool_connections",
    "storeplane_gateway_requests_total",
    "nats_varz_connections",
    "nats_jetstream_messages",
)
SERVICES = {"storeplane-gateway", "storeplane-provisioner", "storeplane-status", "storeplane-notifier"}


async def query(metrics: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    answer = await metrics.get("/api/v1/query", params={"query": expr})
    assert answer.status_code == 200, (expr, answer.text)
    body = answer.json()
    assert body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def until_data(metrics: httpx.AsyncClient, expr: str, timeout: float = 60) -> list[dict[str, Any]]:
    """The expression's result once it has one (a scrape every 5 s)."""
    async with asyncio.timeout(timeout):
        while True:
            if result := await query(metrics, expr):
                return result
            await asyncio.sleep(1)


@pytest.fixture(scope="module")
async def provisioned(platform: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    """One store, ready, its `store.ready` webhook delivered to the local receiver; with its owner's headers
    and the trace id of its request."""
    async with httpx.AsyncClient(base_url=platform, timeout=30) as http:
        owner = await register(http)
        port = free_port()
        hook = {"url": f"http://127.0.0.1:{port}/hooks", "events": ["store.ready"]}
        made = await http.post("/api/v1/webhooks", json=hook, headers=owner)
        assert made.status_code == 201, made.text
        receiver = ReceiverProcess(tmp_path_factory.mktemp("receiver") / "out", port, made.json()["secret"])
        try:
            created = await http.post(
                "/api/v1/stores", json={"name": "observed", "engine": "woocommerce"}, headers=owner
            )
            assert created.status_code == 202, created.text
            store = await wait_for_store(http, created.headers["location"], owner, lambda s: s.get("status") == "ready")
            async with asyncio.timeout(60):
                while "store.ready" not in receiver.printed():  # noqa: ASYNC110 - the receiver is another process
                    await asyncio.sleep(0.2)
            yield {"store": store, "owner": owner, "trace_id": created.headers["x-trace-id"]}
        finally:
            receiver.stop()


async def test_the_store_trace_spans_gateway_provisioner_and_status(
    http: httpx.AsyncClient, provisioned: dict[str, Any]
) -> None:
    path = f"/api/v1/stores/{provisioned['store']['id']}/trace"
    wanted = {
        "POST /api/v1/stores",
        "step namespace",
        "step chart",
        "step readiness",
        "helm upgrade --install",
        "webhook deliver",
    }
    services: set[str] = set()
    names: set[str] = set()
    try:
        async with asyncio.timeout(60):  # spans leave each process within a second, in batches
            while True:
                answer = await http.get(path, headers=provisioned["owner"])
                assert answer.status_code == 200, answer.text
                trace = answer.json()
                services = {span["service"] for span in trace["spans"]}
                names = {span["name"] for span in trace["spans"]}
                projected = any(
                    s["service"] == "storeplane-status" and s["name"].endswith("store_ready process")
                    for s in trace["spans"]
                )  # the notifier consumes store_ready too: the status service's projection is what counts
                if services >= SERVICES and wanted <= names and projected:
                    break
                await asyncio.sleep(1)
    except TimeoutError:
        pytest.fail(f"the trace lacks spans: services {sorted(services)}, names {sorted(names)}")
    assert trace["trace_id"] == provisioned["trace_id"]
    spans = trace["spans"]
    by_id = {span["span_id"]: span for span in spans}
    root = next(span for span in spans if span["name"] == "POST /api/v1/stores")
    assert root["service"] == "storeplane-gateway" and root["status"] != "error"
    # One tree: every span but the root hangs from another span of the same trace.
    assert all(span["parent_id"] in by_id for span in spans if span is not root), spans
    helm = next(span for span in spans if span["name"] == "helm upgrade --install")
    assert helm["service"] == "storeplane-provisioner"
    assert (
        helm["attributes"]["helm.release"]
        and helm["attributes"]["k8s.namespace.name"] == provisioned["store"]["namespace"]
    )
    readiness = next(span for span in spans if span["name"] == "step readiness")
    assert readiness["duration_ms"] > 0 and readiness["start"] >= root["start"]
    assert any(s["name"].startswith("kubernetes ") and "k8s.namespace.name" in s["attributes"] for s in spans)
    hook = next(span for span in spans if span["name"] == "webhook deliver")
    assert hook["service"] == "storeplane-notifier" and hook["attributes"]["webhook.outcome"] == "succeeded"
    assert hook["attributes"]["webhook.target"].startswith("http://127.0.0.1:")
    # The projection of the ready event, by the status service, is in it too.
    assert any(s["service"] == "storeplane-status" and s["name"].endswith("store_ready process") for s in spans), names


async def test_only_the_owner_and_admins_read_a_stores_trace(
    http: httpx.AsyncClient, provisioned: dict[str, Any]
) -> None:
    stranger = await register(http)
    answer = await http.get(f"/api/v1/stores/{provisioned['store']['id']}/trace", headers=stranger)
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "store_not_found"
    missing = await http.get("/api/v1/stores/00000000-0000-4000-8000-000000000000/trace", headers=stranger)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "store_not_found"


async def test_every_named_metric_is_scraped(observability: Observability, provisioned: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=observability.metrics_url, timeout=10) as metrics:
        for expr in NAMED_METRICS:
            assert await until_data(metrics, expr), expr
        # The read model's gauge counts the store once refreshed and scraped (seconds).
        assert await until_data(metrics, 'sum(storeplane_stores{status="ready", engine="woocommerce"}) >= 1')
        up = await until_data(metrics, "up")
        assert {series["metric"]["job"] for series in up} >= {"gateway", "provisioner", "status", "notifier"}
        assert all(series["value"][1] == "1" for series in up), up


async def test_every_dashboard_and_alert_expression_returns_data(
    observability: Observability, provisioned: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(base_url=observability.metrics_url, timeout=10) as metrics:
        # Rates need two scrapes of the store's metrics: wait for the provisioning's own histogram's rate.
        for counted in (
            'storeplane_provisioning_duration_seconds_count{outcome="ready"}',
            "storeplane_helm_call_duration_seconds_count",
            'storeplane_webhook_delivery_seconds_count{outcome="succeeded"}',
        ):
            await until_data(metrics, f"rate({counted}[5m]) > 0", 90)
        empty = [where for where, expr in dashboard_expressions() if not await query(metrics, expr)]
        assert not empty, f"dashboard panels without data: {empty}"
        for rule in alert_rules():
            await query(metrics, rule["expr"])  # evaluates (firing or not)
            assert await query(metrics, measured_side(rule["expr"])), rule["alert"]


async def test_step_figures_and_the_next_stores_estimate(http: httpx.AsyncClient, provisioned: dict[str, Any]) -> None:
    """After a provisioning, the figures name every step of its engine; a store ordered next shows when it is
    likely ready while it is being provisioned."""
    owner = provisioned["owner"]
    wanted = {"namespace", "quota", "limits", "network_policy", "credentials", "chart", "readiness", "to_ready"}
    figures: dict[str, Any] = {}
    try:
        async with asyncio.timeout(30):
            while True:
                answer = await http.get("/api/v1/stats/steps", headers=owner)
                assert answer.status_code == 200, answer.text
                figures = {f["step"]: f for f in answer.json()["steps"] if f["engine"] == "woocommerce"}
                if wanted <= set(figures):
                    break
                await asyncio.sleep(0.5)
    except TimeoutError:
        pytest.fail(f"step figures lack {sorted(wanted - set(figures))}: {figures}")
    assert all(0 <= f["p50_seconds"] <= f["p95_seconds"] and f["samples"] >= 1 for f in figures.values())
    assert figures["to_ready"]["p50_seconds"] >= figures["readiness"]["p50_seconds"]
    created = await http.post("/api/v1/stores", json={"name": "estimated", "engine": "woocommerce"}, headers=owner)
    assert created.status_code == 202, created.text
    sequence = {"X-Min-Sequence": created.headers["x-stream-sequence"]}
    store = (await http.get(created.headers["location"], headers={**owner, **sequence})).json()
    assert store["status"] in ("requested", "provisioning"), store
    estimate = datetime.fromisoformat(store["estimated_ready_at"])
    assert estimate >= datetime.fromisoformat(store["created_at"])
    await wait_for_store(http, created.headers["location"], owner, lambda s: s.get("status") == "ready")
