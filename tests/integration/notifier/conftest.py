"""Fixtures for the notifier against the real NATS and Postgres, with real receiver processes.

`receivers` starts `python -m storeplane_notifier.receiver` processes on loopback (each verifying
every signature with `standardwebhooks` and recording what it got to a file); `notifier_settings`
has a short retry schedule and timeout so the tests take seconds, not hours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from faststream.nats import NatsBroker

from storeplane_notifier.bootstrap import NotifierService, bootstrap
from storeplane_notifier.settings import NotifierSettings
from storeplane_runtime.bus import ensure_stream, make_broker
from tests.integration.notifier.support import Receiver, start_receiver


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(secrets: list[str], *, port: int = 0, answers: str = "204", delay: float = 0.0) -> Receiver:
        record = tmp_path / f"received-{len(started)}.jsonl"
        receiver = start_receiver(record, secrets, port=port, answers=answers, delay=delay)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.process.kill()
        receiver.process.wait()


@pytest.fixture
def notifier_settings(clean_stream: str, database_url: str) -> NotifierSettings:
    return NotifierSettings(
        nats_url=clean_stream,
        database_url=database_url,
        webhook_retry_schedule=(0.3, 0.3, 0.3),
        webhook_retry_jitter=0.0,
        webhook_timeout=2.0,
        webhook_allowed_targets=("127.0.0.1/32",),
        scheduler_interval=0.2,
        notifier_metrics_port=0,
        webhook_lease_margin_seconds=1.0,
        graceful_timeout=2.0,
    )


@pytest.fixture
async def notifier(notifier_settings: NotifierSettings) -> AsyncIterator[NotifierService]:
    async with bootstrap(notifier_settings) as service:
        yield service


@pytest.fixture
async def bus(clean_stream: str) -> AsyncIterator[NatsBroker]:
    """A connection of its own, as the gateway and the provisioner have."""
    broker = make_broker(clean_stream, service="test-publisher")
    await broker.connect()
    await ensure_stream(broker.connection.jetstream())
    yield broker
    await broker.stop()
