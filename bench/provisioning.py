"""The provisioning rows of `make bench`: 20 WooCommerce stores on the local cluster, ordered through the
API with 1, 4 and 8 provisioner workers, each against the same chart installed by hand (`helm upgrade
--install --wait --wait-for-jobs`) at the same parallelism; and the time from a 202 to the store's
`ProvisioningStarted` over 100 orders.

The hand installs get their namespace and credentials Secret made beforehand, untimed (the chart needs
the Secret): Storeplane's figure includes those steps and its guard rails (quota, limits, network policy).
Every namespace a row made is deleted after it, without waiting.

For the 202 -> `ProvisioningStarted` row the provisioner gets a charts folder with no chart, so each
store fails (`unsupported_engine`) right after that first event: the row measures the path from the
gateway's answer through JetStream to the provisioner's first event, not the cluster.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx
import nats
import yaml
from nats.aio.msg import Msg

from bench.bus_rows import raw_hop_latencies
from bench.load import percentile
from bench.platform import Servers, services
from bench.table import Row
from infra.cluster import cluster
from infra.local.servers import NatsLoginFields
from storeplane_contracts import events, subjects
from storeplane_contracts.naming import namespace_for
from storeplane_provisioner.provisioning.config import (
    CREDENTIALS_SECRET,
    RELEASE,
    Provisioning,
    chart_values,
    generated_credentials,
)
from storeplane_provisioner.settings import ProvisionerSettings

GROUP = "provisioning"
PASSWORD = "benchmark password"
TIMEOUT = 600.0


def _tools() -> tuple[Path, Path]:
    layout = cluster.Layout(cluster.DEFAULT_DIR)
    cluster.up(layout)  # a running cluster is reused as it is
    return cluster.binaries(), layout.kubeconfig


def _delete_namespaces(bin_dir: Path, kubeconfig: Path, names: Iterable[str]) -> None:
    names = list(names)
    if names:
        subprocess.run(
            [bin_dir / "kubectl", "--kubeconfig", kubeconfig, "delete", "namespace", "--wait=false", *names],
            capture_output=True,
            check=False,
        )


async def _register(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def _order_and_wait(url: str, prefix: str, count: int) -> tuple[float, list[str]]:
    """Order `count` stores at once; seconds until the last is ready, and their namespaces."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        auth = await _register(client, f"{prefix}@example.com")
        started = time.perf_counter()
        orders = [
            client.post("/api/v1/stores", json={"name": f"{prefix}-{i}", "engine": "woocommerce"}, headers=auth)
            for i in range(count)
        ]
        for response in await asyncio.gather(*orders):
            response.raise_for_status()
        deadline = started + TIMEOUT
        while time.perf_counter() < deadline:
            stores = (await client.get("/api/v1/stores?limit=200", headers=auth)).json()["stores"]
            failed = [store for store in stores if store["status"] == "failed"]
            if failed:
                raise RuntimeError(f"a store failed: {failed[0]}")
            if len(stores) == count and all(store["status"] == "ready" for store in stores):
                return time.perf_counter() - started, [store["namespace"] for store in stores]
            await asyncio.sleep(0.25)
    raise TimeoutError(f"{count} stores were not ready within {TIMEOUT:.0f} s")


def storeplane_seconds(running: Servers, workers: int, count: int) -> float:
    bin_dir, kubeconfig = _tools()
    prefix = f"sp{workers}w{int(time.time()) % 100000}"
    database = f"{prefix}db"
    _create_database(running, database)
    extra = {"STOREPLANE_CONCURRENCY": str(workers), "STOREPLANE_DRIFT_CHECK_SECONDS": "0"}
    with services(running, ["status", "provisioner", "gateway"], database=running.database(database), extra=extra) as p:
        seconds, namespaces = asyncio.run(_order_and_wait(p.url, prefix, count))
    _delete_namespaces(bin_dir, kubeconfig, namespaces)
    return seconds


def _create_database(running: Servers, name: str) -> None:
    import asyncpg

    async def create() -> None:
        connection = await asyncpg.connect(running.postgres.url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())


def _hand_values(name: str, namespace: str) -> dict[str, object]:
    settings = ProvisionerSettings()
    config = Provisioning(
        charts_dir=settings.charts_dir,
        base_domain=settings.base_domain,
        quota=settings.quota(),
        deadline_seconds=settings.deadline_seconds,
    )
    request = events.StoreRequested(
        store_id=events.new_id(), owner_id=events.new_id(), name=name, engine="woocommerce", namespace=namespace
    )
    return chart_values(request, config)


def _prepare(bin_dir: Path, kubeconfig: Path, namespace: str, name: str) -> None:
    """The namespace and the credentials Secret the chart reads (untimed)."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": CREDENTIALS_SECRET, "namespace": namespace},
        "stringData": generated_credentials(f"{name}.stores.localhost"),
    }
    manifest = yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    manifest += "---\n" + yaml.safe_dump(secret)
    kubectl = [str(bin_dir / "kubectl"), "--kubeconfig", str(kubeconfig), "apply", "-f", "-"]
    subprocess.run(kubectl, input=manifest, text=True, capture_output=True, check=True)


async def _helm_install(bin_dir: Path, kubeconfig: Path, namespace: str, name: str, folder: Path) -> None:
    values = folder / f"{namespace}.json"
    values.write_text(json.dumps(_hand_values(name, namespace)))
    chart = ProvisionerSettings().charts_dir / "woocommerce"
    process = await asyncio.create_subprocess_exec(
        str(bin_dir / "helm"), "--kubeconfig", str(kubeconfig), "upgrade", "--install", RELEASE, str(chart),
        "--namespace", namespace, "--values", str(values), "--wait", "--wait-for-jobs", "--timeout", "600s",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"helm install in {namespace} failed: {stderr.decode(errors='replace')[-500:]}")


def helm_seconds(parallel: int, count: int) -> float:
    bin_dir, kubeconfig = _tools()
    prefix = f"hh{parallel}p{int(time.time()) % 100000}"
    names = [f"{prefix}-{i}" for i in range(count)]
    namespaces = [namespace_for(name, events.new_id()) for name in names]
    for namespace, name in zip(namespaces, names, strict=True):
        _prepare(bin_dir, kubeconfig, namespace, name)

    async def install_all(folder: Path) -> float:
        gate = asyncio.Semaphore(parallel)

        async def one(namespace: str, name: str) -> None:
            async with gate:
                await _helm_install(bin_dir, kubeconfig, namespace, name, folder)

        started = time.perf_counter()
        # Every install runs to its end before a failure is raised (a cancelled `communicate` can hang).
        outcomes = await asyncio.gather(
            *(one(ns, name) for ns, name in zip(namespaces, names, strict=True)), return_exceptions=True
        )
        if failures := [outcome for outcome in outcomes if isinstance(outcome, BaseException)]:
            raise RuntimeError(f"{len(failures)} of {count} hand installs failed; the first: {failures[0]}")
        return time.perf_counter() - started

    try:
        with tempfile.TemporaryDirectory() as folder:
            return asyncio.run(install_all(Path(folder)))
    finally:
        _delete_namespaces(bin_dir, kubeconfig, namespaces)


def _once_more(measure: Callable[[], float]) -> float:
    """One more try after a failure: the local cluster is shared, and may have been restarted meanwhile."""
    try:
        return measure()
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError, httpx.HTTPError) as exc:
        print(f"bench: provisioning row failed ({exc!r:.300}); once more", file=sys.stderr, flush=True)
        return measure()


def scaling_rows(running: Servers, workers: Iterable[int] = (1, 4, 8), count: int = 20) -> list[Row]:
    rows, first = [], 0.0
    for n in workers:
        ours = _once_more(lambda: storeplane_seconds(running, n, count))  # noqa: B023 (called at once)
        helm = _once_more(lambda: helm_seconds(n, count))  # noqa: B023
        rows.append(
            Row(GROUP, f"{count} stores, {n} worker(s)", ours, f"raw Helm, {n} at once", helm, unit="s", target=1 / 1.2)
        )
        first = ours if n == 1 else first
        if n != 1 and first:
            rows.append(
                Row(GROUP, f"{count} stores, {n} workers vs 1", ours, "Storeplane, 1 worker", first, unit="s",
                    target=6.0 if n == 8 else None)
            )  # fmt: skip
    return rows


async def _started_latencies(url: str, nats_login: NatsLoginFields, count: int) -> tuple[list[float], float]:
    """Order `count` stores one after another; per store, ms from its 202 to its ProvisioningStarted
    (below zero when the event came before the 202 did); and the mean seconds between two orders."""
    started: dict[str, float] = {}
    arrived = asyncio.Event()

    async def on_started(message: Msg) -> None:
        event = events.decode(message.data)
        started.setdefault(event.store_id, time.perf_counter())
        if len(started) >= count:
            arrived.set()

    connection = await nats.connect(
        nats_login["nats_url"], user=nats_login["nats_user"], password=nats_login["nats_password"]
    )
    try:
        await connection.subscribe(subjects.subject_of("*", events.ProvisioningStarted), cb=on_started)
        await connection.flush()
        accepted: dict[str, float] = {}
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            auth = await _register(client, "started@example.com")
            first = time.perf_counter()
            for index in range(count):
                body = {"name": f"started-{index}", "engine": "woocommerce"}
                response = await client.post("/api/v1/stores", json=body, headers=auth)
                response.raise_for_status()
                accepted[response.json()["id"]] = time.perf_counter()
        interval = (time.perf_counter() - first) / count
        await asyncio.wait_for(arrived.wait(), timeout=60)
    finally:
        await connection.close()
    return [(started[store] - at) * 1000 for store, at in accepted.items()], interval


def started_row(running: Servers, count: int = 100) -> Row:
    _create_database(running, "started")
    with tempfile.TemporaryDirectory() as no_charts:
        extra = {"STOREPLANE_CHARTS_DIR": no_charts, "STOREPLANE_DRIFT_CHECK_SECONDS": "0"}
        database = running.database("started")
        with services(running, ["status", "provisioner", "gateway"], database=database, extra=extra) as platform:
            values, interval = asyncio.run(_started_latencies(platform.url, running.nats.login("reader"), count))
    # The baseline: the same hop on raw nats-py (a publish acknowledged by JetStream, a pull consumer that
    # publishes on receiving it), at the same pace.
    raw = raw_hop_latencies(running.folder, count, interval)
    return Row(
        GROUP, f"202 -> ProvisioningStarted, {count} stores (p99 ms)", percentile(values, 0.99),
        "raw JetStream publish -> pull consumer -> publish (p99 ms)", percentile(raw, 0.99), unit="ms",
        p50_ms=percentile(values, 0.5), p99_ms=percentile(values, 0.99),
        note=f"raw hop p50 {percentile(raw, 0.5):.1f} ms; a p50 near or below 0 means the event was out before "
        "the 202 reached the client (the gateway still confirms the quota slot after the ack)",
    )  # fmt: skip
