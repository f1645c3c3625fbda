"""Structured logs (structlog): key-value lines locally, JSON in production.

A traceback is rendered as plain text, frame by frame, never with the frames' local variables:
structlog's defaults (Rich's traceback locally, the dict traceback in JSON) show them, and a
request handler's locals hold what the request carried, passwords and tokens included.
"""

from __future__ import annotations

import logging

import structlog


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
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            *renderers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
