"""The endpoint API's rules: the per-user cap, paging the delivery log, updates, and disabling an
endpoint that fails for too long."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from faststream.nats import NatsBroker

from storeplane_contracts import webhooks as w
from storeplane_notifier.bootstrap import NotifierService, bootstrap
from storeplane_notifier.settings import NotifierSettings
from tests.integration.notifier.support import (
    OWNER,
    Receiver,
    ask,
    create_endpoint,
    deliveries,
    endpoint_with_receiver,
    wait_until,
)

pytestmark = pytest.mark.integration


async def test_the_cap_on_endpoints_is_per_user(notifier_settings: NotifierSettings, bus: NatsBroker) -> None:
    async with bootstrap(notifier_settings.model_copy(update={"webhook_max_endpoints": 2})):
        await create_endpoint(bus, "http://127.0.0.1:9/a")
        await create_endpoint(bus, "http://127.0.0.1:9/b")
        third = w.CreateEndpoint(owner_id=OWNER, url="http://127.0.0.1:9/c", events=["*"])
        refused = (await ask(bus, w.CREATE_ENDPOINT, third, w.EndpointWithSecret)).refusal
        assert refused is not None and refused.code == "cap_reached" and "delete one" in refused.message
        await create_endpoint(bus, "http://127.0.0.1:9/c", owner_id="owner-2")  # another user's count


async def test_the_delivery_log_pages_newest_first_and_filters_by_status(
    notifier: NotifierService, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    endpoint, receiver = await endpoint_with_receiver(bus, receivers)
    sent = []
    for _ in range(3):
        reply = await ask(bus, w.SEND_TEST, w.SendTest(owner_id=OWNER, endpoint_id=endpoint.id), w.MessageReply)
        assert reply.message is not None
        sent.append(reply.message.id)
    await receiver.wait_for(3)
    page = await ask(
        bus, w.LIST_DELIVERIES, w.ListDeliveries(owner_id=OWNER, endpoint_id=endpoint.id, limit=2), w.DeliveryPage
    )
    assert [m.id for m in page.messages] == sent[:0:-1] and page.next_before is not None
    rest = await ask(
        bus,
        w.LIST_DELIVERIES,
        w.ListDeliveries(owner_id=OWNER, endpoint_id=endpoint.id, limit=2, before=page.next_before),
        w.DeliveryPage,
    )
    assert [m.id for m in rest.messages] == sent[:1] and rest.next_before is None
    keyed = await ask(
        bus,
        w.LIST_DELIVERIES,
        w.ListDeliveries(owner_id=OWNER, endpoint_id=endpoint.id, limit=2, after=page.next_after),
        w.DeliveryPage,
    )
    assert [m.id for m in keyed.messages] == sent[:1] and keyed.next_after is None
    assert await wait_until(lambda: deliveries(bus, endpoint.id, status="succeeded"))
    assert await deliveries(bus, endpoint.id, status="failed") == []
    too_many = w.ListDeliveries(owner_id=OWNER, endpoint_id=endpoint.id, limit=1000)
    refused = (await ask(bus, w.LIST_DELIVERIES, too_many, w.DeliveryPage)).refusal
    assert refused is not None and refused.code == "invalid_request"


async def test_an_update_changes_only_what_it_names(notifier: NotifierService, bus: NatsBroker) -> None:
    endpoint, _ = await create_endpoint(bus, "http://127.0.0.1:9/a", ["store.ready"])
    update = w.UpdateEndpoint(owner_id=OWNER, endpoint_id=endpoint.id, description="ERP", events=["store.failed", "*"])
    updated = (await ask(bus, w.UPDATE_ENDPOINT, update, w.EndpointReply)).endpoint
    assert updated is not None
    assert (updated.url, updated.description, updated.events) == ("http://127.0.0.1:9/a", "ERP", ["*", "store.failed"])
    paused = w.UpdateEndpoint(owner_id=OWNER, endpoint_id=endpoint.id, enabled=False)
    view = (await ask(bus, w.UPDATE_ENDPOINT, paused, w.EndpointReply)).endpoint
    assert view is not None and not view.enabled and view.disabled_reason == "user"
    bad = w.UpdateEndpoint(owner_id=OWNER, endpoint_id=endpoint.id, url="http://127.0.0.2:9/a")
    refused = (await ask(bus, w.UPDATE_ENDPOINT, bad, w.EndpointReply)).refusal
    assert refused is not None and refused.code == "target_refused"
    deleted = await ask(
        bus, w.DELETE_ENDPOINT, w.DeleteEndpoint(owner_id=OWNER, endpoint_id=endpoint.id), w.EndpointReply
    )
    assert deleted.endpoint is not None
    gone = await ask(bus, w.GET_ENDPOINT, w.GetEndpoint(owner_id=OWNER, endpoint_id=endpoint.id), w.EndpointReply)
    assert gone.refusal is not None and gone.refusal.code == "not_found"


async def test_an_endpoint_failing_for_too_long_is_disabled(
    notifier_settings: NotifierSettings, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    settings = notifier_settings.model_copy(
        update={"webhook_disable_after_seconds": 0.5, "webhook_retry_schedule": (0.3, 0.3, 0.3, 0.3, 0.3)}
    )
    async with bootstrap(settings):
        endpoint, receiver = await endpoint_with_receiver(bus, receivers, answers="500")
        await ask(bus, w.SEND_TEST, w.SendTest(owner_id=OWNER, endpoint_id=endpoint.id), w.MessageReply)

        async def disabled() -> w.EndpointView | None:
            reply = await ask(
                bus, w.GET_ENDPOINT, w.GetEndpoint(owner_id=OWNER, endpoint_id=endpoint.id), w.EndpointReply
            )
            return reply.endpoint if reply.endpoint is not None and not reply.endpoint.enabled else None

        view = await wait_until(disabled)
    assert view.disabled_reason == "failing" and view.failing_since is not None
    assert view.exhausted_messages == 1  # its pending message was stopped
    assert 2 <= len(receiver.received()) < 6  # disabled before the schedule ran out
