"""Each delivery is a span in the trace of the store event it tells of, and is counted and timed
on the notifier's own `/metrics` port."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from faststream.nats import NatsBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from storeplane_contracts import events
from storeplane_contracts.events import new_id
from storeplane_notifier.bootstrap import bootstrap
from storeplane_notifier.settings import NotifierSettings
from storeplane_runtime.bus import publish_event
from storeplane_runtime.telemetry import setup_tracing
from tests.integration.notifier.support import Receiver, endpoint_with_receiver, free_port

pytestmark = pytest.mark.integration


def delivered(outcome: str) -> float:
    return REGISTRY.get_sample_value("storeplane_webhook_deliveries_total", {"outcome": outcome}) or 0.0


async def test_a_delivery_is_a_span_of_the_stores_trace_and_is_counted(
    notifier_settings: NotifierSettings, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    exporter = InMemorySpanExporter()
    provider = setup_tracing("test", exporter)
    assert isinstance(provider, TracerProvider)
    port = free_port()
    before = delivered("succeeded")
    async with bootstrap(notifier_settings.model_copy(update={"notifier_metrics_port": port})):
        _, receiver = await endpoint_with_receiver(bus, receivers, events=["store.requested"])
        with trace.get_tracer("test").start_as_current_span("a user's request") as root:
            event = events.StoreRequested(
                store_id=new_id(), owner_id="owner-1", name="traced", engine="medusa", namespace="store-traced"
            )
            await publish_event(bus, event)
        (got,) = await receiver.wait_for(1)
        await asyncio.sleep(0.3)  # the attempt's span ends once the attempt is recorded
        async with httpx.AsyncClient() as http:
            scraped = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    provider.force_flush()
    trace_id = root.get_span_context().trace_id
    assert got["body"]["data"]["trace_id"] == format(trace_id, "032x")
    spans = [s for s in exporter.get_finished_spans() if s.name == "webhook deliver"]
    joined = [s for s in spans if s.context is not None and s.context.trace_id == trace_id]
    assert len(joined) == 1, [s.context for s in spans]
    assert joined[0].attributes is not None and joined[0].attributes["webhook.id"] == got["id"]
    assert delivered("succeeded") == before + 1
    assert 'storeplane_webhook_deliveries_total{outcome="succeeded"}' in scraped
    assert "storeplane_webhook_delivery_seconds_bucket" in scraped
