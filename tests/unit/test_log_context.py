"""Log lines of a store's work carry its trace and span ids and its store id (JSON by default)."""

from __future__ import annotations

import structlog
from opentelemetry.sdk.trace import TracerProvider

from storeplane_runtime.logs import add_trace_context, store_context
from storeplane_runtime.settings import CommonSettings


def test_a_line_inside_a_span_names_the_span_and_its_trace() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        event = add_trace_context(None, "info", {"event": "step done"})
    context = span.get_span_context()
    assert event["trace_id"] == format(context.trace_id, "032x") and len(event["trace_id"]) == 32
    assert event["span_id"] == format(context.span_id, "016x")


def test_a_line_outside_any_span_has_no_ids() -> None:
    assert add_trace_context(None, "info", {"event": "idle"}) == {"event": "idle"}


def test_store_context_binds_the_store_id_for_the_block_only() -> None:
    with store_context("s-1"):
        assert structlog.contextvars.get_contextvars()["store_id"] == "s-1"
    assert "store_id" not in structlog.contextvars.get_contextvars()


def test_json_is_the_default() -> None:
    assert CommonSettings().log_json is True
