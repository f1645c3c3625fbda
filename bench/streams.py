"""`make bench`: memory and event latency with 1,000 open event streams on one gateway process.

Starts its own NATS and Postgres (on loopback, in a temporary folder) and one `storeplane-gateway`
process; registers 100 users and opens 10 streams of `GET /api/v1/events/stream` for each (the
per-user cap), then publishes store events as the provisioner would, each owned by one of the
users, so each reaches that user's 10 streams. Prints the gateway's resident memory before and
with the streams open, the number of server-side JetStream consumers, how long opening took, and
the latency from the publish to each client reading the event (p50, p95, p99, max).
Then every stream reconnects with `Last-Event-ID` from before the burst and the catch-up is timed.

In `make bench` (bench/__main__.py) these are the "event streams" rows: the memory beside the same
process's before the streams opened, the delivery latency beside a raw nats-py subscriber's to the
same events in the same burst. `python -m bench.streams` prints the figures alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
from httpx_sse import aconnect_sse
from nats.aio.client import Client
from nats.aio.msg import Msg

from bench.load import percentile
from bench.table import Row
from infra.local.servers import Server, free_port, spawn, start_nats, start_postgres, wait_for_port
from storeplane_contracts import events, subjects

PASSWORD = "benchmark password"


@dataclass
class Clients:
    """What the streams read: per event id, when each copy arrived; how many streams are open."""

    arrived: dict[str, list[float]] = field(default_factory=dict)
    open: int = 0
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    expected_open: int = 0
    expected_copies: int = 0
    read: int = 0
    all_read: asyncio.Event = field(default_factory=asyncio.Event)

    def note_open(self) -> None:
        self.open += 1
        if self.open >= self.expected_open:
            self.opened.set()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def follow(client: httpx.AsyncClient, token: str, clients: Clients, last_id: int | None = None) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    async with aconnect_sse(client, "GET", "/api/v1/events/stream", headers=headers) as source:
        source.response.raise_for_status()
        clients.note_open()
        async for message in source.aiter_sse():
            if message.data:
                event_id = json.loads(message.data)["event_id"]
                clients.arrived.setdefault(event_id, []).append(time.perf_counter())
                clients.read += 1
                if clients.expected_copies and clients.read >= clients.expected_copies:
                    clients.all_read.set()


async def register(client: httpx.AsyncClient, index: int) -> tuple[str, str]:
    body = {"email": f"bench-{index}@example.com", "password": PASSWORD}
    response = await client.post("/api/v1/auth/register", json=body)
    response.raise_for_status()
    session = response.json()
    return session["user"]["id"], session["token"]


async def publish(nats_url: str, owners: list[str], count: int, pause: float) -> dict[str, float]:
    """Publish `count` events round-robin over the owners; when each publish was acknowledged."""
    nc = await nats.connect(nats_url)
    acked: dict[str, float] = {}
    try:
        js = nc.jetstream()
        for index in range(count):
            owner = owners[index % len(owners)]
            event = events.ProvisioningStarted(store_id=events.new_id(), owner_id=owner)
            acked[event.event_id] = time.perf_counter()  # from the publish: a stream may read it before the ack
            await js.publish(subjects.subject_for(event), events.encode(event), headers={"Nats-Msg-Id": event.event_id})
            await asyncio.sleep(pause)
    finally:
        await nc.close()
    return acked


async def consumers_on_stream(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        return int((await nc.jetstream().stream_info(subjects.STREAM)).state.consumer_count)
    finally:
        await nc.close()


@contextlib.contextmanager
def platform(folder: Path) -> Iterator[tuple[Server, Server]]:
    nats_server = start_nats(folder / "nats")
    postgres = start_postgres(folder / "postgres", durable=False)
    try:
        yield nats_server, postgres
    finally:
        postgres.stop()
        nats_server.stop()


def start_gateway(folder: Path, nats_url: str, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "STOREPLANE_HTTP_PORT": str(port),
        "STOREPLANE_NATS_URL": nats_url,
        "STOREPLANE_DATABASE_URL": database_url,
        "STOREPLANE_AUTH_REQUESTS_PER_MINUTE_PER_ADDRESS": "0",
        "STOREPLANE_LOG_LEVEL": "WARNING",
    }
    script = Path(sys.executable).parent / "storeplane-gateway"
    process = spawn([script], folder / "gateway.log", env=env)
    wait_for_port(port, process=process)
    return process, f"http://127.0.0.1:{port}"


async def wait_ready(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(200):
            checks = (await client.get("/ready")).json().get("checks", {})
            if checks.get("nats") == "ok" and checks.get("postgres") == "ok":
                return
            await asyncio.sleep(0.1)
    raise RuntimeError("the gateway did not get ready")


async def open_streams(
    base_url: str, tokens: list[str], per_user: int, clients: Clients, last_id: int | None = None
) -> tuple[list[asyncio.Task[None]], float, httpx.AsyncClient]:
    client = httpx.AsyncClient(
        base_url=base_url, timeout=httpx.Timeout(30.0, read=None), limits=httpx.Limits(max_connections=None)
    )
    clients.open, clients.expected_open = 0, len(tokens) * per_user
    clients.opened.clear()
    started = time.perf_counter()
    tasks = [asyncio.create_task(follow(client, token, clients, last_id)) for token in tokens for _ in range(per_user)]
    await asyncio.wait_for(clients.opened.wait(), timeout=120)
    return tasks, time.perf_counter() - started, client


async def close_streams(tasks: list[asyncio.Task[None]], client: httpx.AsyncClient) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.aclose()


def latencies(acked: dict[str, float], clients: Clients, copies: int) -> tuple[list[float], int]:
    values = [arrival - acked[event_id] for event_id in acked for arrival in clients.arrived.get(event_id, [])]
    missing = len(acked) * copies - len(values)
    return [value * 1000 for value in values], missing


def report(title: str, values: list[float], missing: int) -> None:
    print(
        f"{title}: {len(values)} deliveries, missing {missing}; latency ms "
        f"p50 {percentile(values, 0.5):.1f}, p95 {percentile(values, 0.95):.1f}, "
        f"p99 {percentile(values, 0.99):.1f}, max {max(values):.1f}, mean {statistics.fmean(values):.1f}"
    )


async def raw_subscriber(nats_url: str, arrived: dict[str, float]) -> Client:
    """The baseline: a plain nats-py subscriber to every store event, noting when each arrived."""
    connection = await nats.connect(nats_url)

    async def noted(message: Msg) -> None:
        arrived.setdefault(json.loads(message.data)["event_id"], time.perf_counter())

    await connection.subscribe(subjects.ALL_STORE_EVENTS, cb=noted)
    await connection.flush()
    return connection


async def run(users: int, per_user: int, burst: int, pause: float, folder: Path) -> list[Row]:
    """Print the figures, and return the bench rows."""
    with platform(folder) as (nats_server, postgres):
        process, base_url = start_gateway(folder, nats_server.url, postgres.url)
        try:
            await wait_ready(base_url)
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                accounts = [await register(client, index) for index in range(users)]
            owners, tokens = [owner for owner, _ in accounts], [token for _, token in accounts]
            pid = process.pid
            baseline = rss_kib(pid)
            clients = Clients()
            tasks, opening, client = await open_streams(base_url, tokens, per_user, clients)
            await asyncio.sleep(2)
            held = rss_kib(pid)
            streams = users * per_user
            print(f"streams open: {clients.open} on one gateway process, opened in {opening:.1f} s")
            print(f"JetStream consumers on {subjects.STREAM}: {await consumers_on_stream(nats_server.url)}")
            print(
                f"gateway RSS: {baseline / 1024:.1f} MiB before, {held / 1024:.1f} MiB with {streams} streams "
                f"({(held - baseline) / streams:.1f} KiB per stream)"
            )
            await publish(nats_server.url, owners[:1], 1, 0)  # a first event: the burst starts after it
            await asyncio.sleep(0.5)
            clients.arrived.clear()
            before_burst = await last_sequence(nats_server.url)
            raw_arrived: dict[str, float] = {}
            raw = await raw_subscriber(nats_server.url, raw_arrived)
            acked = await publish(nats_server.url, owners, burst, pause)
            await asyncio.sleep(2)
            await raw.close()
            values, missing = latencies(acked, clients, per_user)
            report(f"live: {burst} events, each to {per_user} streams", values, missing)
            raw_values = [(raw_arrived[e] - acked[e]) * 1000 for e in acked if e in raw_arrived]
            report("raw nats-py subscriber, the same events", raw_values, len(acked) - len(raw_values))
            print(f"gateway RSS after the burst: {rss_kib(pid) / 1024:.1f} MiB")
            await close_streams(tasks, client)
            await resume(base_url, tokens, per_user, before_burst, burst, streams)
            return stream_rows(streams, baseline, held, values, missing, raw_values)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


GROUP = "event streams"


def stream_rows(streams: int, before: int, held: int, values: list[float], missing: int, raw: list[float]) -> list[Row]:
    note = f"{missing} deliveries missing" if missing else ""
    return [
        Row(GROUP, f"gateway RSS with {streams:,} open streams", held / 1024, "the same process before", before / 1024,
            unit="MiB", note=f"{(held - before) / streams:.1f} KiB per stream"),
        Row(GROUP, f"delivery to {streams:,} streams (p99 ms)", percentile(values, 0.99),
            "raw nats-py subscriber (p99 ms)", percentile(raw, 0.99), unit="ms", p50_ms=percentile(values, 0.5),
            p99_ms=percentile(values, 0.99), note=note),
    ]  # fmt: skip


def rows(folder: Path) -> list[Row]:
    """`make bench`'s event-stream rows, with this module's defaults."""
    return asyncio.run(run(100, 10, 200, 0.01, folder))


async def resume(base_url: str, tokens: list[str], per_user: int, after: int, burst: int, streams: int) -> None:
    """Every stream reconnects with the id from before the burst: each reads its share of it back."""
    clients = Clients()
    started = time.perf_counter()
    tasks, opening, client = await open_streams(base_url, tokens, per_user, clients, last_id=after)
    expected = burst * per_user
    clients.expected_copies = expected
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(clients.all_read.wait(), timeout=120)
    caught_up = time.perf_counter() - started
    read = clients.read
    print(
        f"resume: {streams} streams reconnected with Last-Event-ID, opened in {opening:.1f} s, "
        f"{read}/{expected} missed events read back in {caught_up:.1f} s"
    )
    await close_streams(tasks, client)


async def last_sequence(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        return int((await nc.jetstream().stream_info(subjects.STREAM)).state.last_seq)
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--streams-per-user", type=int, default=10)
    parser.add_argument("--events", type=int, default=200, help="events published while the streams are open")
    parser.add_argument("--pause", type=float, default=0.01, help="seconds between two publishes")
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="storeplane-bench-"))
    folder.chmod(0o755)  # the Postgres server runs as the `postgres` user when we are root
    try:
        asyncio.run(run(arguments.users, arguments.streams_per_user, arguments.events, arguments.pause, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
