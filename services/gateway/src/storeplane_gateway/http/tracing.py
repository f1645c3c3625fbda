"""A server span around every HTTP request (Litestar's OpenTelemetry plugin), so the
publishes and queries a request makes are its children and a caller's `traceparent` is
continued."""

from __future__ import annotations

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

# Probes and scrapes are not traced: a trace of each would be noise, and they run every few seconds; nor
# are the dashboard's hashed files (areas/dashboard/), a dozen spans per page load that say nothing.
UNTRACED_PATHS = ["^/health$", "^/ready$", "^/metrics$", "^/assets/"]  # patterns, matched anywhere in the path


def tracing_plugin() -> OpenTelemetryPlugin:
    # No span for each ASGI `send`/`receive` message: two to four extra spans a request that say nothing
    # the request's own span does not (its status, its duration); they were most of the tracing's cost.
    return OpenTelemetryPlugin(OpenTelemetryConfig(exclude=UNTRACED_PATHS, exclude_spans=["receive", "send"]))
