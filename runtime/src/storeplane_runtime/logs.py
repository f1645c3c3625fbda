"""Structured logs (structlog): key-value lines locally, JSON in production.

A traceback is rendered as plain text, frame by frame, never with the frames' local variables:
structlog's defaults (Rich's traceback locally, the dict traceback in JSON) show them, and a
request handler's locals hold what the request carried, passwords and tokens included.

Every line written inside a span carries its `trace_id` and `span_id`, so a log line leads to its trace
(GET /api/v1/stores/{id}/trace) and back; a store's work binds `store_id` (`store_context`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from opentelemetry import trace
from structlog.types import EventDict, WrappedLogger


def add_trace_context(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    """The current span's ids, as W3C hex (what Jaeger and the X-Trace-Id header show)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


@contextmanager
def store_context(store_id: str) -> Iterator[None]:
    """Every log line within carries `store_id`."""
    with structlog.contextvars.bound_contextvars(store_id=store_id):
        yield


def setup_logging(level: str = "INFO", *, json: bool = False) -> None:
    # Either way `exc_info` becomes plain traceback text: `format_exc_info` for JSON, the console's formatter.
    renderers: list[structlog.types.Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if json
        else [structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)]
    )
    logging.basicConfig(level=level.upper(), format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_trace_context,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            *renderers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
