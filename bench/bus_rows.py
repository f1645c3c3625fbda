"""The bus rows of `make bench`, each against raw nats-py or asyncpg doing the same work in the same run:

- the gateway's publish rate (POST /stores, 16 requests in flight) vs nats-py publishing with the
  JetStream ack, 16 in flight, on a NATS server of its own;
- the status projection's events/s (a backlog of requests and deletions, read by a freshly started status service)
  vs one asyncpg `executemany` of the same rows into a table shaped like the projection's;
- the provisioner consumer's commands/s (a backlog of commands it refuses on validation, so no cluster
  work) vs a raw nats-py pull consumer acking the same number of messages with a no-op handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig

from bench.platform import Servers, services
from bench.table import Row
from infra.local.servers import start_nats
from storeplane_contracts import events, subjects
from storeplane_contracts.permissions import inbox_prefix
from storeplane_runtime.bus import ensure_stream

GROUP = "bus"
IN_FLIGHT = 16
RAW_STREAM = "RAW"


async def _connect(running: Servers, user: str) -> Client:
    login = running.nats.login(user)
    return await nats.connect(
        login["nats_url"], user=user, password=login["nats_password"], inbox_prefix=inbox_prefix(user)
    )


async def _raw_publish_rate(url: str, seconds: float) -> float:
    """Publish-with-ack from IN_FLIGHT tasks for `seconds`: acknowledged messages per second."""
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        await js.add_stream(name=RAW_STREAM, subjects=["raw.>"])
        body = events.encode(events.StoreRequested(
            store_id=events.new_id(), owner_id=events.new_id(), name="raw-store", engine="woocommerce", namespace="x"
        ))  # fmt: skip
        acked = 0
        end = time.perf_counter() + seconds

        async def publisher(index: int) -> None:
            nonlocal acked
            count = 0
            while time.perf_counter() < end:
                await js.publish(f"raw.{index}", body, headers={"Nats-Msg-Id": f"{index}-{count}"})
                count += 1
            acked += count

        started = time.perf_counter()
        await asyncio.gather(*(publisher(index) for index in range(IN_FLIGHT)))
        return acked / (time.perf_counter() - started)
    finally:
        await connection.close()


async def _raw_pull_rate(url: str, count: int, batch: int) -> float:
    """A durable pull consumer that acks each of `count` stored messages and does nothing else."""
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        await js.add_stream(name="PULL", subjects=["pull.>"])
        for index in range(count):
            await js.publish("pull.commands", b"{}", headers={"Nats-Msg-Id": str(index)})
        subscription = await js.pull_subscribe("pull.commands", durable="noop", config=ConsumerConfig())
        done = 0
        started = time.perf_counter()
        while done < count:
            for message in await subscription.fetch(batch, timeout=5):
                await message.ack()
                done += 1
        return count / (time.perf_counter() - started)
    finally:
        await connection.close()


def raw_nats(folder: Path) -> tuple[float, float]:
    """On a NATS server of its own: publish rate, no-op pull consumer rate (both raw nats-py)."""
    server = start_nats(folder / "nats-raw")
    try:
        publish = asyncio.run(_raw_publish_rate(server.url, 8))
        pull = asyncio.run(_raw_pull_rate(server.url, COMMANDS, 4))
        return publish, pull
    finally:
        server.stop()


def publish_row(gateway_rate: float, raw_rate: float) -> Row:
    return Row(GROUP, f"gateway publish rate (POST /stores, {IN_FLIGHT} in flight)", gateway_rate,
               f"raw nats-py publish with ack, {IN_FLIGHT} in flight", raw_rate, unit="msg/s")  # fmt: skip


# --- the status projection ------------------------------------------------------------------

EVENTS = 4000
COMMANDS = 2000


def _backlog(count: int) -> list[events.Event]:
    """`count` events, two for each of count/2 stores: its StoreRequested and its StoreDeletionRequested
    (both the gateway's own events, which its NATS user may publish)."""
    backlog: list[events.Event] = []
    for index in range(count // 2):
        store_id, owner_id = events.new_id(), events.new_id()
        namespace = f"store-backlog-{index}-{store_id[:8]}"
        backlog.append(events.StoreRequested(
            store_id=store_id, owner_id=owner_id, name=f"backlog-{index}", engine="woocommerce", namespace=namespace,
        ))  # fmt: skip
        backlog.append(events.StoreDeletionRequested(store_id=store_id, owner_id=owner_id, namespace=namespace))
    return backlog


async def _publish_backlog(running: Servers, backlog: list[Any]) -> int:
    connection = await _connect(running, "gateway")
    try:
        js = connection.jetstream()
        await ensure_stream(js)  # as the gateway does when it starts
        last = 0
        for start in range(0, len(backlog), IN_FLIGHT):
            acks = await asyncio.gather(*(
                js.publish(subjects.subject_for(event), events.encode(event), headers={"Nats-Msg-Id": event.event_id})
                for event in backlog[start : start + IN_FLIGHT]
            ))  # fmt: skip
            last = max(last, *(ack.seq for ack in acks))
        return last
    finally:
        await connection.close()


async def _projected_rate(database_url: str, last: int, timeout: float = 300) -> float:
    """Events/s from the first projected event the poll sees to the last one."""
    connection = await asyncpg.connect(database_url)
    try:

        async def position() -> int:
            try:
                return int(await connection.fetchval("SELECT max(last_sequence) FROM projection_tracking") or 0)
            except asyncpg.UndefinedTableError:
                return 0

        return await _rate_until(position, last, timeout, "the status service did not project the backlog")
    finally:
        await connection.close()


async def _rate_until(progress: Callable[[], Awaitable[int]], total: int, timeout: float, late: str) -> float:
    """Polls `progress` until it reaches `total`: units per second from the first progress seen to the end."""
    first: tuple[float, int] | None = None
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        done = await progress()
        now = time.perf_counter()
        if done > 0 and first is None:
            first = (now, done)
        if first and done >= total:
            return (done - first[1]) / (now - first[0])
        await asyncio.sleep(0.02)
    raise TimeoutError(late)


async def _create_database(running: Servers, name: str) -> str:
    connection = await asyncpg.connect(running.postgres.url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return running.database(name)


async def _executemany_rate(database_url: str, backlog: list[Any]) -> float:
    """The projection's event rows written by one executemany, into the same table shape."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "CREATE TABLE store_events (event_id text PRIMARY KEY, store_id text NOT NULL, sequence bigint NOT NULL, "
            "type text NOT NULL, occurred_at timestamptz NOT NULL, data jsonb NOT NULL);"
            "CREATE INDEX ON store_events (store_id, sequence)"
        )
        now = datetime.datetime.now(datetime.UTC)
        rows = [
            (
                event.event_id,
                event.store_id,
                sequence,
                type(event).__name__,
                now,
                json.dumps({"event_id": event.event_id}),
            )
            for sequence, event in enumerate(backlog, start=1)
        ]
        started = time.perf_counter()
        await connection.executemany(
            "INSERT INTO store_events (event_id, store_id, sequence, type, occurred_at, data) "
            "VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            rows,
        )
        return len(rows) / (time.perf_counter() - started)
    finally:
        await connection.close()


def projection_row(running: Servers) -> Row:
    backlog = _backlog(EVENTS)
    database = asyncio.run(_create_database(running, "projection"))
    last = asyncio.run(_publish_backlog(running, backlog))
    with services(running, ["status"], database=database):
        rate = asyncio.run(_projected_rate(database, last))
    raw = asyncio.run(_executemany_rate(asyncio.run(_create_database(running, "executemany")), backlog))
    return Row(GROUP, f"status projection, a backlog of {EVENTS} events", rate,
               "asyncpg executemany of the same rows", raw, unit="events/s")  # fmt: skip


# --- the provisioner consumer --------------------------------------------------------------------


async def _publish_invalid_commands(running: Servers, count: int) -> None:
    """StoreRequested commands whose name the provisioner's re-validation refuses (terminated at once)."""
    connection = await _connect(running, "gateway")
    try:
        js = connection.jetstream()
        await ensure_stream(js)  # as the gateway does when it starts
        for start in range(0, count, IN_FLIGHT):
            batch = [
                events.StoreRequested(store_id=events.new_id(), owner_id=events.new_id(), name="Not A Name!",
                                      engine="woocommerce", namespace="store-invalid")
                for _ in range(min(IN_FLIGHT, count - start))
            ]  # fmt: skip
            await asyncio.gather(*(
                js.publish(subjects.subject_for(e), events.encode(e), headers={"Nats-Msg-Id": e.event_id})
                for e in batch
            ))  # fmt: skip
    finally:
        await connection.close()


async def _consumed_rate(running: Servers, count: int, timeout: float = 300) -> float:
    """Commands/s the provisioner's durable consumer settled, from the first settled to the last."""
    connection = await _connect(running, "provisioner")
    try:
        js = connection.jetstream()

        async def settled() -> int:
            try:
                info = await js.consumer_info(subjects.STREAM, subjects.PROVISIONER_DURABLE)
            except nats.js.errors.NotFoundError:
                return 0
            return count - int(info.num_pending) - int(info.num_ack_pending)

        return await _rate_until(settled, count, timeout, "the provisioner did not settle the backlog")
    finally:
        await connection.close()


def consumer_row(running: Servers, raw_rate: float, workers: int = 4) -> Row:
    """Run on a STORES stream the provisioner has not consumed yet."""
    asyncio.run(_publish_invalid_commands(running, COMMANDS))
    extra = {"STOREPLANE_CONCURRENCY": str(workers), "STOREPLANE_DRIFT_CHECK_SECONDS": "0"}
    with services(running, ["provisioner"], extra=extra):
        rate = asyncio.run(_consumed_rate(running, COMMANDS))
    return Row(GROUP, f"provisioner consumer, {COMMANDS} commands refused on validation", rate,
               "raw nats-py pull consumer, no-op handler", raw_rate, unit="msg/s")  # fmt: skip


async def _raw_hop(url: str, count: int, interval: float) -> list[float]:
    """ms from a publish's ack to the arrival of what a pull consumer published on receiving it; one
    publish every `interval` seconds (the pace at which the API row's orders were accepted)."""
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        await js.add_stream(name="HOP", subjects=["hop.>"])
        arrived: dict[str, float] = {}
        done = asyncio.Event()

        async def noted(message: Msg) -> None:
            arrived[message.data.decode()] = time.perf_counter()
            if len(arrived) >= count:
                done.set()

        await connection.subscribe("hop.started", cb=noted)
        subscription = await js.pull_subscribe("hop.requested", durable="hop")

        async def consume() -> None:
            while True:
                try:
                    messages = await subscription.fetch(1, timeout=1)
                except nats.errors.TimeoutError:
                    continue
                for message in messages:
                    await js.publish("hop.started", message.data)
                    await message.ack()

        consumer = asyncio.create_task(consume())
        acked: dict[str, float] = {}
        for index in range(count):
            await js.publish("hop.requested", str(index).encode())
            acked[str(index)] = time.perf_counter()
            await asyncio.sleep(interval)
        await asyncio.wait_for(done.wait(), timeout=60)
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        return [(arrived[key] - at) * 1000 for key, at in acked.items()]
    finally:
        await connection.close()


def raw_hop_latencies(folder: Path, count: int, interval: float) -> list[float]:
    server = start_nats(folder / "nats-hop")
    try:
        return asyncio.run(_raw_hop(server.url, count, interval))
    finally:
        server.stop()
