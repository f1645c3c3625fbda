"""nats-server's monitoring endpoint (`/varz`, `/jsz`: JSON) as Prometheus metrics.

nats-server serves no Prometheus format itself and its exporter is not to be had here, so a
service that is given the endpoint's URL reads it on every scrape of its own `/metrics`
(a custom collector: the values are the server's, never cached). `nats_up` is 0 when the
endpoint does not answer, so an alert sees the bus go away.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

# /varz field, metric name, help, counter?
_VARZ = (
    ("connections", "nats_varz_connections", "Client connections open", False),
    ("subscriptions", "nats_varz_subscriptions", "Subscriptions", False),
    ("slow_consumers", "nats_varz_slow_consumers", "Clients the server dropped for reading too slowly", True),
    ("in_msgs", "nats_varz_in_msgs", "Messages received", True),
    ("out_msgs", "nats_varz_out_msgs", "Messages sent", True),
    ("in_bytes", "nats_varz_in_bytes", "Bytes received", True),
    ("out_bytes", "nats_varz_out_bytes", "Bytes sent", True),
    ("mem", "nats_varz_mem_bytes", "Resident memory of the server", False),
    ("cpu", "nats_varz_cpu_percent", "CPU use of the server", False),
)
_JSZ = (
    ("streams", "nats_jetstream_streams", "JetStream streams"),
    ("consumers", "nats_jetstream_consumers", "JetStream consumers"),
    ("messages", "nats_jetstream_messages", "Messages stored in JetStream"),
    ("bytes", "nats_jetstream_bytes", "Bytes stored in JetStream"),
)


class NatsMonitoringCollector(Collector):
    """Reads `url`/varz and `url`/jsz at each collection."""

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _read(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/{path}", timeout=self.timeout) as answer:
            data: dict[str, Any] = json.load(answer)
            return data

    def collect(self) -> Iterator[Metric]:
        try:
            varz, jsz = self._read("varz"), self._read("jsz")
        except (OSError, ValueError):
            yield GaugeMetricFamily("nats_up", "Whether nats-server's monitoring endpoint answered", value=0)
            return
        yield GaugeMetricFamily("nats_up", "Whether nats-server's monitoring endpoint answered", value=1)
        for field, name, text, counter in _VARZ:
            value = float(varz.get(field, 0))
            yield (
                CounterMetricFamily(name, text, value=value) if counter else GaugeMetricFamily(name, text, value=value)
            )
        for field, name, text in _JSZ:
            yield GaugeMetricFamily(name, text, value=float(jsz.get(field, 0)))


def register_nats_monitoring(url: str) -> NatsMonitoringCollector | None:
    """Serve the endpoint's metrics from this process's registry (once); nothing for an empty URL."""
    if not url:
        return None
    collector = NatsMonitoringCollector(url)
    REGISTRY.register(collector)
    return collector
