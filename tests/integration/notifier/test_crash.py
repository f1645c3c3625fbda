"""A notifier killed (SIGKILL) while messages are pending loses none: every one is delivered
after a restart, events published while it was down included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from faststream.nats import NatsBroker

from storeplane_contracts import subjects
from storeplane_contracts import webhooks as w
from storeplane_contracts.events import new_id
from storeplane_notifier.bootstrap import bootstrap
from storeplane_notifier.settings import NotifierSettings
from storeplane_runtime.bus import ensure_stream
from tests.integration.notifier.support import (
    OWNER,
    NobodyAnswers,
    Receiver,
    ask,
    deliveries,
    endpoint_with_receiver,
    wait_until,
)
from tests.integration.notifier.test_delivery import lifecycle, publish

pytestmark = pytest.mark.integration


def notifier_process(settings: NotifierSettings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STOREPLANE_NATS_URL": settings.nats_url,
        "STOREPLANE_DATABASE_URL": settings.database_url,
        "STOREPLANE_WEBHOOK_RETRY_SCHEDULE": ",".join(str(s) for s in settings.webhook_retry_schedule),
        "STOREPLANE_WEBHOOK_ALLOWED_TARGETS": ",".join(settings.webhook_allowed_targets),
        "STOREPLANE_WEBHOOK_TIMEOUT": str(settings.webhook_timeout),
        "STOREPLANE_WEBHOOK_LEASE_MARGIN_SECONDS": str(settings.webhook_lease_margin_seconds),
        "STOREPLANE_SCHEDULER_INTERVAL": str(settings.scheduler_interval),
        "STOREPLANE_NOTIFIER_METRICS_PORT": "0",
    }
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "storeplane_notifier"], env=env, stdout=out, stderr=out)


async def answering(bus: NatsBroker) -> bool:
    try:
        await ask(bus, w.LIST_ENDPOINTS, w.ListEndpoints(owner_id=OWNER), w.EndpointList)
    except (TimeoutError, NobodyAnswers):  # not started yet (under load, it takes longer than `ask` asks)
        return False
    return True


async def test_a_notifier_killed_with_pending_messages_delivers_every_one_after_a_restart(
    notifier_settings: NotifierSettings, bus: NatsBroker, receivers: Callable[..., Receiver], tmp_path: Path
) -> None:
    process = notifier_process(notifier_settings, tmp_path / "notifier.log")
    try:
        assert await wait_until(lambda: answering(bus), timeout=30), (tmp_path / "notifier.log").read_text()
        endpoint, receiver = await endpoint_with_receiver(bus, receivers, delay=0.3)
        await publish(bus, lifecycle(new_id()) + lifecycle(new_id()))
        assert len(await receiver.wait_for(3)) >= 3
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    delivered_before_restart = len({r["id"] for r in receiver.received()})
    assert delivered_before_restart < 18  # the kill came while messages were pending
    await publish(bus, lifecycle(new_id()))  # while no notifier runs

    async with bootstrap(notifier_settings):

        async def every_one() -> bool:
            return len({r["id"] for r in receiver.received()}) >= 27

        assert await wait_until(every_one, timeout=60)
        log = await deliveries(bus, endpoint.id, limit=100)
    ids = {r["id"] for r in receiver.received()}
    assert len(ids) == 27 == len(log)
    assert ids == {m.id for m in log}
    assert all(r["verified"] == [True] for r in receiver.received())


async def test_a_recreated_stream_is_followed_from_its_start(
    notifier_settings: NotifierSettings, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    """The database remembers a position far beyond the new stream's sequences (the stream was
    deleted and recreated, say with NATS' state): the notifier must not skip the new events."""
    async with bootstrap(notifier_settings):
        _, receiver = await endpoint_with_receiver(bus, receivers, events=["store.ready"])
    pool = await asyncpg.connect(notifier_settings.database_url)
    try:
        await pool.execute("UPDATE notifier_positions SET last_sequence = 1000")
        await pool.execute("INSERT INTO notifier_positions VALUES ('notifier', 1000) ON CONFLICT DO NOTHING")
    finally:
        await pool.close()
    js = bus.connection.jetstream()
    await js.delete_stream(subjects.STREAM)
    await ensure_stream(js)
    async with bootstrap(notifier_settings):
        await publish(bus, lifecycle(new_id()))
        got = await receiver.wait_for(1)
    assert [r["type"] for r in got] == ["store.ready"]
