"""Delivery metrics for Prometheus, on the notifier's own `/metrics` port (`STOREPLANE_NOTIFIER_METRICS_PORT`)."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Histogram, start_http_server

DELIVERIES = Counter(
    "storeplane_notifier_deliveries",
    "Webhook delivery attempts by outcome (succeeded, failed, gone, refused)",
    ["outcome"],
)
LATENCY = Histogram(
    "storeplane_notifier_delivery_seconds",
    "Time from connecting to the answer's first KiB, by outcome",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
EXHAUSTED = Counter("storeplane_notifier_messages_exhausted", "Messages that ran out of attempts")
DISABLED = Counter(
    "storeplane_notifier_endpoints_disabled", "Endpoints disabled by the notifier, by reason", ["reason"]
)


def observe(outcome: str, latency_ms: float) -> None:
    DELIVERIES.labels(outcome).inc()
    LATENCY.labels(outcome).observe(latency_ms / 1000)


class MetricsServer:
    """`/metrics` on `host`:`port` from a daemon thread (port 0: not served)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._server: WSGIServer | None = None

    def start(self) -> None:
        if self.port and self._server is None:
            self._server, _ = start_http_server(self.port, addr=self.host)

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.shutdown()
            server.server_close()
