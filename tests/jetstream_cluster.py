"""Reading a JetStream cluster's view of a stream, for every tier's tests: who leads it, and whether
its other replicas have caught up (the moment a next node may be lost without losing a quorum)."""

from __future__ import annotations

import asyncio
import contextlib

import nats.errors
from nats.js.api import ClusterInfo
from nats.js.client import JetStreamContext

from storeplane_contracts import subjects


async def stream_cluster(js: JetStreamContext, stream: str = subjects.STREAM) -> ClusterInfo:
    """The stream's cluster info (leader, replicas), asked until a leader answers."""
    async with asyncio.timeout(60):
        while True:
            with contextlib.suppress(nats.errors.Error, TimeoutError):
                info = await js.stream_info(stream)
                if info.cluster is not None and info.cluster.leader:
                    return info.cluster
            await asyncio.sleep(0.3)


async def stream_leader(js: JetStreamContext, stream: str = subjects.STREAM) -> str:
    """The name of the server that leads the stream now."""
    return str((await stream_cluster(js, stream)).leader)


async def caught_up(js: JetStreamContext, replicas: int = 3, stream: str = subjects.STREAM) -> ClusterInfo:
    """Once the stream has a leader and its `replicas - 1` other replicas are current."""
    async with asyncio.timeout(90):
        while True:
            cluster = await stream_cluster(js, stream)
            peers = cluster.replicas or []
            if len(peers) == replicas - 1 and all(peer.current and not peer.offline for peer in peers):
                return cluster
            await asyncio.sleep(0.3)
