"""The asyncpg pools of a process as Prometheus metrics (kept apart from storeplane_runtime.metrics,
which the layers that may not import a database client use too)."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class _Pools(Collector):
    """The asyncpg pools of this process, read at each scrape: connections in use and idle, and the
    most a pool may open, by the pool's name (the service's)."""

    def __init__(self) -> None:
        # asyncpg's pools take no weak reference: a closed one is dropped when the next is tracked.
        self._pools: list[tuple[str, asyncpg.Pool]] = []

    def track(self, name: str, pool: asyncpg.Pool) -> None:
        self._pools = [(n, p) for n, p in self._pools if not p.is_closing()] + [(name, pool)]

    def collect(self) -> Iterator[Metric]:
        connections = GaugeMetricFamily(
            "storeplane_database_pool_connections",
            "Open connections of the pool, in use or idle",
            labels=["pool", "state"],
        )
        most = GaugeMetricFamily(
            "storeplane_database_pool_max_connections", "Connections a pool may open", labels=["pool"]
        )
        totals: dict[str, list[int]] = {}
        for name, pool in list(self._pools):
            if pool.is_closing():
                continue
            size, idle = pool.get_size(), pool.get_idle_size()
            total = totals.setdefault(name, [0, 0, 0])
            total[0] += size - idle
            total[1] += idle
            total[2] += pool.get_max_size()
        for name, (in_use, idle, max_size) in sorted(totals.items()):
            connections.add_metric([name, "in_use"], in_use)
            connections.add_metric([name, "idle"], idle)
            most.add_metric([name], max_size)
        yield connections
        yield most


_POOLS = _Pools()
REGISTRY.register(_POOLS)


def track_pool(name: str, pool: asyncpg.Pool) -> None:
    """Show the pool in `storeplane_database_pool_connections{pool=name}` while it is open."""
    _POOLS.track(name, pool)
