"""`make bench-tenants`: a large tenant base on the local cluster, and the figures that grow with it.

It runs its own NATS, Postgres, status service, provisioner and gateway (as `make bench` does), orders
`--stores` WooCommerce stores (1,000 by default) for many owners through the API, kwok simulating their
pods, and waits until they are ready or `--budget-minutes` is over. Then, at that many stores: the list
latency p50/p99 (an owner's first page, an admin's `?all=true` first page, an admin's walk over every page),
the projection lag while the stores were provisioned (events behind, and the read-your-writes wait), the
kube-apiserver's requests per store provisioned (`apiserver_request_total`, less the shared cluster's
background rate measured just before), the provisioner's resident memory, and the drift check's seconds
per round. Every namespace it made is deleted at the end, so the shared cluster is left as it was.

The figures go to bench/results/tenants-<date>.md; docs/performance.md and docs/deploying.md read them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import nats

from bench import gauges, machine
from bench.load import Cores, percentile
from bench.platform import Platform, Servers, servers, services
from bench.provisioning import PASSWORD, _create_database, _register
from bench.table import RESULTS
from infra.cluster import cluster
from infra.local.servers import free_port
from storeplane_contracts import subjects
from storeplane_contracts.permissions import inbox_prefix

STORES_PER_OWNER = 20
ORDERS_IN_FLIGHT = 8
DRIFT_INTERVAL = 30.0
LIST_SAMPLES = 200
NOBODYS_STORE = "00000000-0000-4000-8000-000000000000"


def _kubectl() -> list[str]:
    return [str(cluster.binaries() / "kubectl"), "--kubeconfig", str(cluster.Layout(cluster.DEFAULT_DIR).kubeconfig)]


def delete_namespaces(prefix: str) -> int:
    """Delete (without waiting) every namespace whose name starts with `prefix`; how many."""
    listed = subprocess.run([*_kubectl(), "get", "namespaces", "-o", "name"], capture_output=True, text=True)
    names = [n.removeprefix("namespace/") for n in listed.stdout.split() if n.startswith(f"namespace/{prefix}")]
    for start in range(0, len(names), 100):
        chunk = names[start : start + 100]
        subprocess.run([*_kubectl(), "delete", "namespace", "--wait=false", *chunk], capture_output=True)
    return len(names)


async def _admin(client: httpx.AsyncClient, platform: Platform, email: str) -> dict[str, str]:
    """An admin's session: registered, granted by the operator's command, logged in again."""
    await _register(client, email)
    env = platform.processes["gateway"].env
    command = [sys.executable, "-m", "storeplane_gateway", "admin", "grant", email]
    await asyncio.to_thread(subprocess.run, command, env=env, check=True, capture_output=True)
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def _order_all(client: httpx.AsyncClient, owners: list[dict[str, str]], prefix: str, count: int) -> float:
    """Order `count` stores, round robin over `owners`, ORDERS_IN_FLIGHT at a time; seconds it took."""
    gate = asyncio.Semaphore(ORDERS_IN_FLIGHT)

    async def one(index: int) -> None:
        async with gate:
            body = {"name": f"{prefix}-{index}", "engine": "woocommerce"}
            response = await client.post("/api/v1/stores", json=body, headers=owners[index % len(owners)])
            response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - started


async def _every_store(client: httpx.AsyncClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    """Every store, an admin walking `?all=true` page by page (200 a page)."""
    found: list[dict[str, Any]] = []
    url: str | None = "/api/v1/stores?all=true&limit=200"
    while url is not None:
        response = await client.get(url, headers=admin)
        response.raise_for_status()
        found += response.json()["stores"]
        url = response.json()["next"]
    return found


async def _until_ready(
    client: httpx.AsyncClient, admin: dict[str, str], count: int, deadline: float
) -> tuple[dict[str, int], float]:
    """Wait until `count` stores are ready or failed (or the deadline); how many are in each state, and
    the monotonic time the last one became ready."""
    statuses: dict[str, int] = {}
    last_ready = time.monotonic()
    while time.monotonic() < deadline:
        stores = await _every_store(client, admin)
        now = {status: sum(store["status"] == status for store in stores) for status in {s["status"] for s in stores}}
        if now.get("ready", 0) > statuses.get("ready", 0):
            last_ready = time.monotonic()
        statuses = now
        print(f"bench-tenants: {statuses} of {count}", file=sys.stderr, flush=True)
        if statuses.get("ready", 0) + statuses.get("failed", 0) >= count:
            break
        await asyncio.sleep(10)
    return statuses, last_ready


async def _latencies(client: httpx.AsyncClient, url: str, headers: dict[str, str], samples: int) -> list[float]:
    """Milliseconds of `samples` GETs of `url`, one after another."""
    found = []
    for _ in range(samples):
        started = time.perf_counter()
        response = await client.get(url, headers=headers)
        response.raise_for_status()
        found.append((time.perf_counter() - started) * 1000)
    return found


def _p50_p99(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 0.5), 1), "p99_ms": round(percentile(values, 0.99), 1)}


async def _list_figures(client: httpx.AsyncClient, owner: dict[str, str], admin: dict[str, str]) -> dict[str, Any]:
    walks = []
    for _ in range(5):
        started = time.perf_counter()
        await _every_store(client, admin)
        walks.append((time.perf_counter() - started) * 1000)
    return {
        "owner first page (limit 50)": _p50_p99(await _latencies(client, "/api/v1/stores", owner, LIST_SAMPLES)),
        "admin ?all=true first page (limit 50)": _p50_p99(
            await _latencies(client, "/api/v1/stores?all=true", admin, LIST_SAMPLES)
        ),
        "admin walk over every page (limit 200)": _p50_p99(walks),
    }


class Lag:
    """The projection's lag while stores are provisioned: events behind (the status service's gauge) and
    the read-your-writes wait (a read that asks for the stream's newest sequence, less a plain read)."""

    def __init__(self, client: httpx.AsyncClient, owner: dict[str, str], status_metrics: str, reader: Any) -> None:
        self.client, self.owner, self.status_metrics, self.reader = client, owner, status_metrics, reader
        self.events, self.wait_ms = gauges.Sampled(), gauges.Sampled()

    async def behind(self) -> float:
        figures = await asyncio.to_thread(gauges.scrape, self.status_metrics)
        return gauges.total(figures, "storeplane_projection_lag_events")

    async def read_your_writes(self) -> float:
        newest = (await self.reader.stream_info(subjects.STREAM)).state.last_seq
        plain = await self._read_nobodys_store({})
        return max(0.0, await self._read_nobodys_store({"X-Min-Sequence": str(newest)}) - plain)

    async def _read_nobodys_store(self, headers: dict[str, str]) -> float:
        """Milliseconds to be told 404 for a store nobody has: with `X-Min-Sequence`, after the projection
        reached that sequence."""
        started = time.perf_counter()
        await self.client.get(f"/api/v1/stores/{NOBODYS_STORE}", headers={**self.owner, **headers})
        return (time.perf_counter() - started) * 1000


async def _drift_rounds(metrics: str, rounds: int, timeout: float) -> dict[str, float]:
    """The mean seconds of the next `rounds` drift-check rounds (every store ready by now)."""
    before = await asyncio.to_thread(gauges.scrape, metrics)
    count0 = gauges.total(before, "storeplane_drift_check_round_seconds_count")
    sum0 = gauges.total(before, "storeplane_drift_check_round_seconds_sum")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(5)
        now = await asyncio.to_thread(gauges.scrape, metrics)
        done = gauges.total(now, "storeplane_drift_check_round_seconds_count") - count0
        if done >= rounds:
            seconds = gauges.total(now, "storeplane_drift_check_round_seconds_sum") - sum0
            return {"rounds": done, "seconds_per_round": round(seconds / done, 2)}
    return {"rounds": 0, "seconds_per_round": float("nan")}


def _kubernetes_calls(metrics: str) -> float:
    return gauges.total(gauges.scrape(metrics), "storeplane_kubernetes_call_duration_seconds_count")


class Provisioned(NamedTuple):
    ordering: float
    seconds: float  # until the last store became ready
    measured: float  # the whole window the apiserver's requests were counted over
    statuses: dict[str, int]
    apiserver: float
    calls: float
    lag: Lag
    memory: gauges.Sampled


async def _provision(run: Run, count: int, budget: float) -> Provisioned:
    """Order the stores and wait for them, sampling the lag and the provisioner's memory meanwhile."""
    lag, memory, pid = Lag(run.client, run.owners[0], run.status_metrics, run.reader), gauges.Sampled(), run.pid
    samplers = [
        asyncio.create_task(gauges.sample_every(1.0, lag.behind, lag.events)),
        asyncio.create_task(gauges.sample_every(2.0, lag.read_your_writes, lag.wait_ms)),
        asyncio.create_task(gauges.sample_every(1.0, lambda: asyncio.to_thread(gauges.rss_mib, pid), memory)),
    ]
    api_before = await asyncio.to_thread(gauges.apiserver_requests, _kubectl())
    calls_before = await asyncio.to_thread(_kubernetes_calls, run.provisioner_metrics)
    started = time.monotonic()
    ordering = await _order_all(run.client, run.owners, run.prefix, count)
    statuses, last_ready = await _until_ready(run.client, run.admin, count, started + budget)
    seconds = last_ready - started
    api_after = await asyncio.to_thread(gauges.apiserver_requests, _kubectl())
    calls_after = await asyncio.to_thread(_kubernetes_calls, run.provisioner_metrics)
    for sampler in samplers:
        sampler.cancel()
    apiserver, calls = api_after - api_before, calls_after - calls_before
    return Provisioned(ordering, seconds, time.monotonic() - started, statuses, apiserver, calls, lag, memory)


@dataclass
class Run:
    """One simulation's platform, its clients and its accounts."""

    client: httpx.AsyncClient
    reader: Any  # JetStream, as the read-only `reader` user
    prefix: str
    pid: int
    status_metrics: str
    provisioner_metrics: str
    owners: list[dict[str, str]] = field(default_factory=list)
    admin: dict[str, str] = field(default_factory=dict)


def _figures(count: int, owners: int, background: float, done: Provisioned) -> dict[str, Any]:
    ours, ready, memory = (
        done.apiserver - background * done.measured,
        max(done.statuses.get("ready", 0), 1),
        done.memory,
    )
    events, wait = done.lag.events, done.lag.wait_ms
    return {
        "stores ordered": count,
        "stores by status at the end": done.statuses,
        "owners": owners,
        "seconds to order (202s)": round(done.ordering, 1),
        "seconds until the last store was ready": round(done.seconds, 1),
        "stores ready per minute": round(ready / max(done.seconds, 1) * 60, 1),
        "projection lag, events behind (p50 / p99 / max)": [events.p(0.5), events.p(0.99), events.peak],
        "projection lag, read-your-writes wait ms (p50 / p99 / max)": [
            round(wait.p(0.5), 1),
            round(wait.p(0.99), 1),
            round(wait.peak, 1),
        ],
        "apiserver requests in the run, all clients": done.apiserver,
        "apiserver background rate before the run (req/s)": round(background, 1),
        "apiserver requests per store ready (less the background)": round(ours / ready, 1),
        "provisioner's own Kubernetes calls per store ready (Helm's not included)": round(done.calls / ready, 1),
        "provisioner RSS MiB (start / peak)": [
            round(memory.values[0] if memory.values else 0, 1),
            round(memory.peak, 1),
        ],
    }


async def simulate(
    platform: Platform, running: Servers, ports: dict[str, int], arguments: argparse.Namespace
) -> dict[str, Any]:
    """Order the stores, sample while they are provisioned, then measure at that many stores."""
    count = arguments.stores
    login = running.nats.login("reader")
    user = login["nats_user"]
    connection = await nats.connect(
        login["nats_url"], user=user, password=login["nats_password"], inbox_prefix=inbox_prefix(user)
    )
    async with httpx.AsyncClient(base_url=platform.url, timeout=60) as client:
        run = Run(
            client,
            connection.jetstream(),
            arguments.prefix,
            platform.pid("provisioner"),
            f"http://127.0.0.1:{ports['status']}/metrics",
            f"http://127.0.0.1:{ports['provisioner']}/metrics",
        )
        for i in range(math.ceil(count / STORES_PER_OWNER)):
            run.owners.append(await _register(client, f"{run.prefix}-owner-{i}@example.com"))
        run.admin = await _admin(client, platform, f"{run.prefix}-admin@example.com")
        background = await _background_rate(30.0)
        done = await _provision(run, count, arguments.budget_minutes * 60)
        figures = _figures(count, len(run.owners), background, done)
        figures["lists"] = await _list_figures(client, run.owners[0], run.admin)
        figures["drift check"] = await _drift_rounds(run.provisioner_metrics, 2, timeout=DRIFT_INTERVAL * 3 + 600)
        figures["provisioner RSS MiB at the end"] = round(gauges.rss_mib(run.pid), 1)
    await connection.close()
    return figures


async def _background_rate(seconds: float) -> float:
    """Requests per second the shared kube-apiserver serves before we start (other engineers' tests, the
    controllers, kwok): subtracted from the run's total."""
    before = await asyncio.to_thread(gauges.apiserver_requests, _kubectl())
    await asyncio.sleep(seconds)
    return (await asyncio.to_thread(gauges.apiserver_requests, _kubectl()) - before) / seconds


def _stop_own_cluster() -> None:
    """Remove the cluster this run started for itself; never the shared one (`make up`'s and the tests')."""
    layout = cluster.Layout(cluster.DEFAULT_DIR)
    if "tenants" not in layout.dir.name:
        print(f"bench-tenants: {layout.dir} is not a tenants cluster: left running", file=sys.stderr)
        return
    cluster.down(layout)


def run(arguments: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="storeplane-tenants-"))
    folder.chmod(0o755)  # the Postgres server runs as the `postgres` user when we are root
    ports = {"status": free_port(), "provisioner": free_port()}
    extra = {
        "STOREPLANE_CONCURRENCY": str(arguments.workers),
        "STOREPLANE_DRIFT_CHECK_SECONDS": str(DRIFT_INTERVAL),
        "STOREPLANE_STATUS_METRICS_PORT": str(ports["status"]),
        "STOREPLANE_PROVISIONER_METRICS_PORT": str(ports["provisioner"]),
    }
    try:
        with servers(folder) as running:
            _create_database(running, "tenants")
            database = running.database("tenants")
            with services(running, ["status", "provisioner", "gateway"], database=database, extra=extra) as platform:
                return asyncio.run(simulate(platform, running, ports, arguments))
    finally:
        deleted = delete_namespaces(f"store-{arguments.prefix}-")
        print(f"bench-tenants: {deleted} namespaces deleted", file=sys.stderr, flush=True)
        if arguments.own_cluster:
            _stop_own_cluster()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stores", type=int, default=1000, help="how many stores to provision (1,000)")
    parser.add_argument("--workers", type=int, default=8, help="the provisioner's concurrency (8)")
    parser.add_argument("--budget-minutes", type=float, default=15.0, help="stop waiting for ready after (15)")
    parser.add_argument("--no-write", action="store_true", help="print the figures without writing a results file")
    parser.add_argument(
        "--own-cluster",
        action="store_true",
        help="the cluster at STOREPLANE_CLUSTER_DIR (a folder named *tenants*) is this run's: removed at the end",
    )
    arguments = parser.parse_args()
    # A `kill` ends the run as Ctrl-C does: its services stopped, its namespaces deleted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    arguments.prefix = f"tn{int(time.time()) % 100000}"
    started = time.monotonic()
    figures = run(arguments)
    figures["minutes, whole run"] = round((time.monotonic() - started) / 60, 1)
    text = json.dumps(figures, indent=2)
    print(text)
    if not arguments.no_write:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"tenants-{datetime.datetime.now(datetime.UTC):%Y-%m-%d}.md"
        description = machine.description(Cores.split().describe(), "")
        where = "a cluster of its own" if arguments.own_cluster else "the shared local cluster"
        path.write_text(
            f"# Tenant simulation, {arguments.stores} stores on {where} ({cluster.NODES} kwok nodes)\n\n"
            f"{description}\n\n```json\n{text}\n```\n"
        )
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
