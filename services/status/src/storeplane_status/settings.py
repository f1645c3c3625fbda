"""The status service's settings: the shared ones plus where its read models live."""

from __future__ import annotations

from pydantic import Field

from storeplane_runtime.settings import CommonSettings


class StatusSettings(CommonSettings):
    """Settings for the status service, from `STOREPLANE_*` environment variables."""

    database_url: str = "postgresql://storeplane@127.0.0.1:5433/storeplane"
    # Read-your-writes: how long a query with `min_sequence` waits for the projection to catch up.
    # Below the gateway's `query_timeout`, so a late projection still gets an answer back.
    read_your_writes_timeout: float = 3.0
    # Queries answered at once per subscriber; a query waiting for read-your-writes holds one slot.
    query_concurrency: int = 32
    database_pool_size: int = 10
    # Seconds FastStream waits for the message in hand when stopping.
    graceful_timeout: float = 10.0
    # Where Prometheus scrapes the process's `/metrics` (port 0: not served); 0.0.0.0 in a pod.
    status_metrics_host: str = "127.0.0.1"
    status_metrics_port: int = Field(default=9104, ge=0)
    # nats-server's monitoring endpoint (`http://127.0.0.1:8222`), read on each scrape and served as
    # `nats_*` metrics beside the service's own; empty: not read.
    nats_monitoring_url: str = ""
    # How often the read-model gauges (stores by engine and status, projection lag) are refreshed.
    metrics_refresh_seconds: float = Field(default=5.0, gt=0)
    # How often the per-step p50/p95 figures (GET /api/v1/stats/steps, a store's estimated time to ready) are read.
    step_stats_refresh_seconds: float = Field(default=30.0, gt=0)
