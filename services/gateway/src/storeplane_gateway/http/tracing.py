"""A server span around every HTTP request (Litestar's OpenTelemetry plugin), so the
publishes and queries a request makes are its children and a caller's `traceparent` is
continued."""

from __future__ import annotations

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin


def tracing_plugin() -> OpenTelemetryPlugin:
    return OpenTelemetryPlugin(OpenTelemetryConfig())
