"""Each request is a server span; its trace id is returned and stamped on the event it publishes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from storeplane_contracts.events import StoreRequested
from storeplane_runtime.telemetry import setup_tracing
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import sign_up


@pytest.fixture(scope="session")
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    setup_tracing("gateway", exporter=exporter)
    yield exporter


def finished_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.force_flush()
    return list(exporter.get_finished_spans())


async def test_the_trace_id_header_is_the_request_spans_trace(
    client: AsyncTestClient[Litestar], fakes: Fakes, exporter: InMemorySpanExporter
) -> None:
    account = await sign_up(client)
    exporter.clear()
    response = await client.post(
        "/api/v1/stores", json={"name": "shop-one", "engine": "woocommerce"}, headers=account.headers
    )
    assert response.status_code == 202
    trace_id = response.headers["x-trace-id"]
    assert len(trace_id) == 32 and int(trace_id, 16) != 0
    [event] = fakes.bus.published
    assert isinstance(event, StoreRequested) and event.trace_id == trace_id
    [span] = [s for s in finished_spans(exporter) if s.name == "POST /api/v1/stores"]
    assert span.kind == SpanKind.SERVER
    assert span.context is not None and format(span.context.trace_id, "032x") == trace_id
    assert span.attributes is not None and span.attributes["http.status_code"] == 202


async def test_a_callers_traceparent_is_continued(
    client: AsyncTestClient[Litestar], fakes: Fakes, exporter: InMemorySpanExporter
) -> None:
    account = await sign_up(client)
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await client.post(
        "/api/v1/stores",
        json={"name": "shop-one", "engine": "woocommerce"},
        headers={**account.headers, "traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"},
    )
    assert response.headers["x-trace-id"] == caller_trace
