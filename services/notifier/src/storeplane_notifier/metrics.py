"""Delivery metrics for Prometheus, on the notifier's own `/metrics` port (`STOREPLANE_NOTIFIER_METRICS_PORT`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from storeplane_runtime.metrics import MetricsServer

__all__ = ["DELIVERIES", "DISABLED", "EXHAUSTED", "LATENCY", "MetricsServer", "observe"]

OUTCOMES = ("succeeded", "failed", "gone", "refused")

DELIVERIES = Counter(
    "storeplane_webhook_deliveries",
    "Webhook delivery attempts by outcome (succeeded, failed, gone, refused)",
    ["outcome"],
)
LATENCY = Histogram(
    "storeplane_webhook_delivery_seconds",
    "Time from connecting to the answer's first KiB, by outcome",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
EXHAUSTED = Counter("storeplane_webhook_messages_exhausted", "Webhook messages that ran out of attempts")
DISABLED = Counter("storeplane_webhook_endpoints_disabled", "Endpoints disabled by the notifier, by reason", ["reason"])
# Every outcome's series exists from the start (at 0), so a rate over it is never "no data".
for _outcome in OUTCOMES:
    DELIVERIES.labels(_outcome)
    LATENCY.labels(_outcome)
for _reason in ("gone", "failing"):
    DISABLED.labels(_reason)


def observe(outcome: str, latency_ms: float) -> None:
    DELIVERIES.labels(outcome).inc()
    LATENCY.labels(outcome).observe(latency_ms / 1000)
