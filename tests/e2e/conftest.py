"""The whole platform as a user runs it: the three services as separate processes, on the
session's real NATS, Postgres and Kubernetes, reached only through the gateway's HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from infra.local.observability import start_victoria_metrics
from infra.local.servers import Server
from tests.e2e.platforms import MetricsPorts, running_platform


@dataclass(frozen=True)
class Observability:
    """The shared platform's backends: VictoriaMetrics scraping every service, Jaeger holding their spans."""

    metrics_url: str
    traces_url: str


@pytest.fixture(scope="session")
def metrics_ports() -> MetricsPorts:
    return MetricsPorts()


@pytest.fixture(scope="session")
def observability(servers_dir: Path, metrics_ports: MetricsPorts, jaeger: Server) -> Iterator[Observability]:
    metrics = start_victoria_metrics(servers_dir / "victoria-metrics", targets=metrics_ports.scrape_targets())
    yield Observability(metrics_url=metrics.url, traces_url=jaeger.url)
    metrics.stop()


@pytest.fixture(scope="session")
def platform(
    postgres_server: Server,
    kubeconfig: Path,
    cluster_bin: Path,
    servers_dir: Path,
    metrics_ports: MetricsPorts,
    jaeger: Server,
    observability: Observability,  # scraping from the start: a counter's first increase is seen
) -> Iterator[str]:
    """The gateway's base URL, with every service running on a NATS server of its own, each as its
    own NATS user, with the signing key and passwords `make up` would make (infra/local/credentials.py);
    each serves `/metrics` on `metrics_ports` and sends its spans to `jaeger`, as under `make up`."""
    extra = {
        "STOREPLANE_DRIFT_CHECK_SECONDS": "3",
        # Short enough for the stuck-deletion test to see its note soon, long enough for a normal deletion.
        "STOREPLANE_STEP_DEADLINES": '{"namespace_deletion": 15}',
        # The per-step figures (GET /api/v1/stats/steps) soon after a store is ready.
        "STOREPLANE_STEP_STATS_REFRESH_SECONDS": "1",
        # The stall watchdog runs (asking the status service for p95s) but notes only a step near its deadline:
        # a slow readiness on a busy machine must not add a StepStalled to the tests' exact timelines.
        "STOREPLANE_STALL_FLOOR_SECONDS": "540",
    }
    root = servers_dir / "e2e"
    with running_platform(
        root,
        database_url=postgres_server.url,
        kubeconfig=kubeconfig,
        cluster_bin=cluster_bin,
        extra=extra,
        metrics=metrics_ports,
        otlp_endpoint=jaeger.extra["otlp_http"],
        trace_query_url=jaeger.url,
    ) as url:
        yield url


@pytest.fixture
async def http(platform: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform, timeout=30) as client:
        yield client
