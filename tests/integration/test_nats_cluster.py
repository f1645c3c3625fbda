"""A three-node JetStream cluster on loopback (infra.local.servers.start_nats_cluster), as the
scale-out test runs it: the STORES stream at three replicas, its durables too, and a publish
acknowledged again soon after the leader's node is SIGKILLed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js.client import JetStreamContext

from infra.local.servers import NatsCluster, start_nats_cluster
from storeplane_contracts import subjects
from storeplane_runtime.bus import ensure_stream, nats_servers
from storeplane_runtime.consumers import durable_consumer
from tests.jetstream_cluster import caught_up, stream_leader

pytestmark = pytest.mark.integration


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[NatsCluster]:
    started = start_nats_cluster(tmp_path / "nats")
    yield started
    started.stop()


async def publish_until_acked(js: JetStreamContext, subject: str) -> int:
    """Publish (with one message id) until a leader acknowledges; returns the sequence."""
    async with asyncio.timeout(60):
        while True:
            try:
                return (await js.publish(subject, b"{}", headers={"Nats-Msg-Id": subject})).seq
            except (nats.errors.Error, TimeoutError):
                await asyncio.sleep(0.3)


async def ensured(js: JetStreamContext, replicas: int) -> None:
    """ensure_stream, asked again while the cluster elects its first leaders."""
    async with asyncio.timeout(60):
        while True:
            try:
                await ensure_stream(js, replicas=replicas)
                return
            except (nats.errors.Error, TimeoutError):
                await asyncio.sleep(0.3)


async def test_the_stream_and_its_durables_are_on_three_servers_and_survive_the_leader(cluster: NatsCluster) -> None:
    nc = await nats.connect(nats_servers(cluster.url), max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    try:
        js = nc.jetstream(timeout=2)
        await ensured(js, 1)
        await ensured(js, 3)  # an existing one-server stream is brought to three
        assert (await js.stream_info(subjects.STREAM)).config.num_replicas == 3
        await caught_up(js, 3)  # both other replicas current
        leader = await stream_leader(js)
        await js.add_consumer(subjects.STREAM, durable_consumer("probe", subjects.ALL_STORE_EVENTS, ack_wait=5))
        consumer = await js.consumer_info(subjects.STREAM, "probe")
        assert consumer.cluster is not None and len(consumer.cluster.replicas or []) == 2  # inherited R3

        first = await publish_until_acked(js, "stores.a.requested")
        cluster.kill(cluster.index_of(leader))
        second = await publish_until_acked(js, "stores.b.requested")
        after = await js.stream_info(subjects.STREAM)
        assert after.cluster is not None and after.cluster.leader not in (None, leader)
        assert after.state.messages == 2 and second > first
        cluster.restart(cluster.index_of(leader))
        await caught_up(js, 3)  # the restarted node is a current replica again
    finally:
        await nc.close()
