"""One trace follows a store request across services, carried in NATS message headers:
the publish, the provisioner's consumption and every event it publishes, and the status
service's projection of each of them."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import msgspec
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from storeplane_contracts import events, naming, queries, subjects
from storeplane_provisioner.bootstrap import start as start_provisioner
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.bus import ensure_stream, make_broker, publish_event
from storeplane_runtime.telemetry import setup_tracing
from storeplane_status.bootstrap import bootstrap as status_service
from storeplane_status.settings import StatusSettings

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
    client = make_broker(clean_stream, service="test-client")
    await client.connect()
    await ensure_stream(client.connection.jetstream())
    try:
        async with status_service(StatusSettings(nats_url=clean_stream, database_url=database_url)):
            store_id = str(uuid.uuid4())
            with trace.get_tracer("test").start_as_current_span("POST /api/v1/stores") as root:
                await publish_event(
                    client,
                    events.StoreRequested(
                        store_id=store_id,
                        owner_id="u1",
                        name="traced",
                        engine="woocommerce",
                        namespace=naming.namespace_for("traced", store_id),
                    ),
                )
            trace_id = root.get_span_context().trace_id

            async with asyncio.timeout(120):
                while True:
                    reply = await client.request(
                        msgspec.json.encode(queries.GetStore(store_id=store_id, owner_id="u1")),
                        subjects.QUERY_GET_STORE,
                        timeout=5,
                    )
                    store = msgspec.json.decode(reply.body, type=queries.StoreReply).store
                    if store and store.status in ("ready", "failed"):
                        break
                    await asyncio.sleep(0.5)
            assert store.status == "ready"
    finally:
        await client.stop()
        await provisioner.stop()
    provider.force_flush()

    in_trace = [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    # The provisioner consumed the request and published each step, the status service
    # projected them, all as children of the one request.
    assert any("store_requested" in n and "process" in n for n in names), names
    for step in ("namespace_created", "chart_installed", "store_ready"):
        assert any(step in n and "publish" in n for n in names), (step, names)
        assert any(step in n and "process" in n for n in names), (step, names)
