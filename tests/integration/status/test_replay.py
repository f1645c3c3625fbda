"""Replaying the stream rebuilds read models identical to the live ones."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from faststream.nats import NatsBroker

from infra.local.servers import Server
from storeplane_contracts import events
from storeplane_status.bootstrap import StatusService
from storeplane_status.replaying import differences, replay, snapshot
from tests.integration.status.test_status_service import deleted, provisioned, publish_all, requested

pytestmark = pytest.mark.integration


async def test_a_replay_equals_the_live_read_models(
    status: StatusService, bus: NatsBroker, postgres_server: Server, database_url: str
) -> None:
    kept, removed, failed = requested("kept-shop"), requested("gone-shop"), requested("broken-shop")
    failure = events.ProvisioningFailed(
        store_id=failed.store_id,
        owner_id=failed.owner_id,
        step="chart",
        reason="chart_failed",
        message="boom",
        retryable=False,
    )
    kept_steps = provisioned(kept)
    last = await publish_all(
        bus, [kept, removed, failed, *kept_steps, *provisioned(removed), failure, *deleted(removed)]
    )
    # The same event once more under another message id (a producer retry after the dedupe
    # window): the stream holds it twice, the timeline once.
    ready = kept_steps[-1]
    await bus.publish(
        events.encode(ready),
        f"stores.{ready.store_id}.store_ready",
        headers={"Nats-Msg-Id": "retry-" + ready.event_id},
        stream="STORES",
    )
    await status.position.reach(last + 1)

    name = f"replay_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_server.extra["admin_url"])
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    replay_url = database_url.rsplit("/", 1)[0] + f"/{name}"

    read = await replay(bus_url(bus), replay_url)
    assert read == last + 1
    live, rebuilt = await snapshot(database_url), await snapshot(replay_url)
    assert differences(live, rebuilt) == []
    assert [s["status"] for s in live["stores"]] and {s["status"] for s in rebuilt["stores"]} == {
        "ready",
        "deleted",
        "failed",
    }
    assert len(rebuilt["events"]) == last  # the duplicate is not in the timeline twice


def bus_url(bus: NatsBroker) -> str:
    url = bus.connection.connected_url
    assert url is not None, "the publisher is connected"
    return url.geturl()
