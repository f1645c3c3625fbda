"""One trace follows a store request across services, carried in NATS message headers: the HTTP
request to the gateway, its publish, the provisioner's consumption and every event it publishes,
and the status service's projection of each of them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from storeplane_gateway.settings import GatewaySettings
from storeplane_provisioner.bootstrap import start as start_provisioner
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.telemetry import setup_tracing
from storeplane_status.bootstrap import bootstrap as status_service
from storeplane_status.settings import StatusSettings
from tests.integration.gateway.support import served

pytestmark = pytest.mark.integration


async def test_one_trace_spans_request_provisioning_and_projection(
    clean_stream: str, database_url: str, kubeconfig: Path, cluster_bin: Path
) -> None:
    exporter = InMemorySpanExporter()
    provider = setup_tracing("test", exporter)
    assert isinstance(provider, TracerProvider)

    provisioner = await start_provisioner(
        ProvisionerSettings(nats_url=clean_stream, kubeconfig=kubeconfig, helm_bin=str(cluster_bin / "helm"))
    )
    try:
        async with (
            status_service(StatusSettings(nats_url=clean_stream, database_url=database_url)),
            served(GatewaySettings(nats_url=clean_stream, database_url=database_url)) as base_url,
            httpx.AsyncClient(base_url=base_url) as http,
        ):
            account = await http.post("/api/v1/auth/register", json={"email": "t@example.com", "password": "traced!!"})
            auth = {"Authorization": f"Bearer {account.json()['token']}"}
            created = await http.post("/api/v1/stores", json={"name": "traced", "engine": "woocommerce"}, headers=auth)
            assert created.status_code == 202, created.text
            trace_id = int(created.headers["x-trace-id"], 16)
            async with asyncio.timeout(120):
                while True:  # as a user would: the API has no push yet
                    store = (await http.get(created.headers["location"], headers=auth)).json()
                    if store["status"] in ("ready", "failed"):
                        break
                    await asyncio.sleep(0.5)
            assert store["status"] == "ready", store["error"]
    finally:
        await provisioner.stop()
    provider.force_flush()

    in_trace = [s for s in exporter.get_finished_spans() if s.context is not None and s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    # The gateway's server span is the root: the 202's X-Trace-Id names this very trace.
    assert any(s.name == "POST /api/v1/stores" and s.kind == SpanKind.SERVER for s in in_trace), names
    assert any("store_requested" in n and "publish" in n for n in names), names
    # The provisioner consumed the request and published each step, the status service projected
    # them, all in the one request's trace.
    assert any("store_requested" in n and "process" in n for n in names), names
    for step in ("namespace_created", "chart_installed", "store_ready"):
        assert any(step in n and "publish" in n for n in names), (step, names)
        assert any(step in n and "process" in n for n in names), (step, names)
