"""Two notifiers share one database and one consumer: every message is delivered, and none twice
(a message is leased to one instance at a time)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from faststream.nats import NatsBroker

from storeplane_contracts.events import new_id
from storeplane_notifier.bootstrap import bootstrap
from storeplane_notifier.settings import NotifierSettings
from tests.integration.notifier.support import Receiver, deliveries, endpoint_with_receiver
from tests.integration.notifier.test_delivery import lifecycle, publish

pytestmark = pytest.mark.integration


async def test_two_notifiers_deliver_every_message_once(
    notifier_settings: NotifierSettings, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    async with bootstrap(notifier_settings), bootstrap(notifier_settings):
        endpoints = [await endpoint_with_receiver(bus, receivers, delay=0.05) for _ in range(3)]
        await publish(bus, lifecycle(new_id()) + lifecycle(new_id()))
        for _, receiver in endpoints:
            assert len(await receiver.wait_for(18)) == 18
        logs = [await deliveries(bus, endpoint.id) for endpoint, _ in endpoints]
    for (_, receiver), log in zip(endpoints, logs, strict=True):
        got = receiver.received()
        assert len(got) == 18 == len({r["id"] for r in got})  # none twice
        assert {r["id"] for r in got} == {m.id for m in log}
        assert all(len(m.attempts) == 1 for m in log)
