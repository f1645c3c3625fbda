"""The provisioner's Prometheus metrics, on its own `/metrics` port (`STOREPLANE_PROVISIONER_METRICS_PORT`).

Labels stay bounded: engines, steps, reasons and operations are closed sets; a store id never is one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import get_args

from prometheus_client import Counter, Histogram

from storeplane_contracts.events import Engine, FailureStep, now
from storeplane_provisioner.provisioning.steps import PROVISIONING_STEPS

# From seconds (guard rails) to the half hour a slow chart may take.
_LONG = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1800)
_CALLS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

PROVISIONING_DURATION = Histogram(
    "storeplane_provisioning_duration_seconds",
    "From the store request to ready or failed, by engine and outcome",
    ["engine", "outcome"],
    buckets=_LONG,
)
STEP_DURATION = Histogram(
    "storeplane_step_duration_seconds",
    "Time one step took to converge (successful runs), by engine and step",
    ["engine", "step"],
    buckets=_LONG,
)
FAILURES = Counter(
    "storeplane_provisioning_failures",
    "Provisionings and deletions reported failed, by the step that failed and why",
    ["step", "reason"],
)
RETRIES = Counter(
    "storeplane_step_retries", "Temporary failures that will be retried, by step and reason", ["step", "reason"]
)
STALLS = Counter(
    "storeplane_step_stalls",
    "Steps that ran past max(3 x their p95, the floor) and were noted StepStalled, by engine and step",
    ["engine", "step"],
)
HELM_SECONDS = Histogram(
    "storeplane_helm_call_duration_seconds",
    "Helm subprocess calls, by command and outcome",
    ["operation", "outcome"],
    buckets=_CALLS,
)
KUBERNETES_SECONDS = Histogram(
    "storeplane_kubernetes_call_duration_seconds",
    "Kubernetes API calls, by method and path template (no names filled in), and outcome",
    ["operation", "outcome"],
    buckets=_CALLS,
)
DRIFT_ROUND_SECONDS = Histogram(
    "storeplane_drift_check_round_seconds",
    "One pass of the drift check over every ready store (grows with their number)",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)

# The series alerts and dashboards read exist (at 0) before the first store.
for _engine in get_args(Engine):
    for _outcome in ("ready", "failed"):
        PROVISIONING_DURATION.labels(_engine, _outcome)
    for _provisioning_step in PROVISIONING_STEPS:
        STEP_DURATION.labels(_engine, _provisioning_step.name)
for _operation in ("upgrade", "history", "uninstall", "rollback", "get"):  # the Helm commands it runs
    for _result in ("ok", "error"):
        HELM_SECONDS.labels(_operation, _result)
for _step in get_args(FailureStep):
    FAILURES.labels(_step, "timeout")
    RETRIES.labels(_step, "timeout")


def provisioning_finished(engine: str, outcome: str, requested_at: datetime) -> None:
    PROVISIONING_DURATION.labels(engine, outcome).observe(max((now() - requested_at).total_seconds(), 0.0))


@contextmanager
def timed(histogram: Histogram, operation: str) -> Iterator[None]:
    """Observe the block's duration under `operation`, with outcome `ok` or `error`."""
    start = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        histogram.labels(operation, outcome).observe(time.perf_counter() - start)
