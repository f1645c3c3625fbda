"""The notifier end to end on the real bus and database, delivering to real receiver processes on
loopback that verify every signature with `standardwebhooks`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypedDict

import pytest
from faststream.nats import NatsBroker

from storeplane_contracts import audit, events, subjects
from storeplane_contracts import webhooks as w
from storeplane_contracts.events import Event, new_id
from storeplane_notifier.bootstrap import NotifierService
from storeplane_runtime.bus import ensure_audit_stream, publish_event
from tests.integration.notifier.support import (
    OWNER,
    Receiver,
    ask,
    create_endpoint,
    deliveries,
    endpoint_with_receiver,
    free_port,
    wait_until,
)

pytestmark = pytest.mark.integration


class Ids(TypedDict):
    """The fields that say whose store an event is about."""

    store_id: str
    owner_id: str


class Owned(TypedDict):
    """Whose endpoint a request is about."""

    owner_id: str
    endpoint_id: str


def lifecycle(store_id: str, owner_id: str = OWNER) -> list[Event]:
    """The events the gateway and the provisioner publish for a store that becomes ready."""
    ids = Ids(store_id=store_id, owner_id=owner_id)
    namespace = f"store-{store_id[:8]}"
    return [
        events.StoreRequested(**ids, name="shop", engine="woocommerce", namespace=namespace, trace_id="ab" * 16),
        events.ProvisioningStarted(**ids),
        events.NamespaceCreated(**ids, namespace=namespace),
        events.QuotaApplied(**ids, namespace=namespace, hard={"pods": "10"}),
        events.LimitsApplied(**ids, namespace=namespace),
        events.NetworkPolicyApplied(**ids, namespace=namespace),
        events.CredentialsCreated(**ids, namespace=namespace, secret="store-credentials"),
        events.ChartInstalled(**ids, namespace=namespace, release="shop", chart="woocommerce", revision=1),
        events.StoreReady(**ids, urls={"storefront": "http://shop.127.0.0.1.nip.io"}),
    ]


async def publish(bus: NatsBroker, stream_events: list[Event]) -> None:
    for event in stream_events:
        await publish_event(bus, event)


async def test_a_stores_lifecycle_arrives_signed_and_complete(
    notifier: NotifierService, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    endpoint, receiver = await endpoint_with_receiver(bus, receivers)
    await publish(bus, lifecycle(new_id()))
    got = await receiver.wait_for(9)
    assert len(got) == 9, got
    assert all(r["verified"] == [True] for r in got)
    types = [r["type"] for r in got]
    assert types == ["store.requested", "store.provisioning", *["store.step"] * 6, "store.ready"]
    ready = got[-1]["body"]
    assert ready["data"]["status"] == "ready"
    assert ready["data"]["name"] == "shop" and ready["data"]["engine"] == "woocommerce"
    assert ready["data"]["urls"] == {"storefront": "http://shop.127.0.0.1.nip.io"}
    assert [r["body"]["data"]["step"] for r in got[2:8]] == [
        "namespace_created",
        "quota_applied",
        "limits_applied",
        "network_policy_applied",
        "credentials_created",
        "chart_installed",
    ]
    assert len({r["id"] for r in got}) == 9
    log = await wait_until(lambda: settled(bus, endpoint.id, 9))
    assert [m.status for m in log] == ["succeeded"] * 9
    assert all(len(m.attempts) == 1 and m.attempts[0].status_code == 204 for m in log)


async def settled(bus: NatsBroker, endpoint_id: str, count: int) -> list[w.MessageView]:
    """The endpoint's messages once `count` of them are no longer pending (else an empty list)."""
    found = await deliveries(bus, endpoint_id)
    done = [m for m in found if m.status != "pending"]
    return found if len(done) >= count else []


async def send_test(bus: NatsBroker, endpoint_id: str, owner_id: str = OWNER) -> w.MessageView:
    reply = await ask(bus, w.SEND_TEST, w.SendTest(owner_id=owner_id, endpoint_id=endpoint_id), w.MessageReply)
    assert reply.refusal is None and reply.message is not None, reply.refusal
    return reply.message


async def message_in_log(bus: NatsBroker, endpoint_id: str, message_id: str, status: str) -> w.MessageView | None:
    found = [m for m in await deliveries(bus, endpoint_id) if m.id == message_id and m.status == status]
    return found[0] if found else None


async def get_endpoint(bus: NatsBroker, endpoint_id: str) -> w.EndpointView:
    reply = await ask(bus, w.GET_ENDPOINT, w.GetEndpoint(owner_id=OWNER, endpoint_id=endpoint_id), w.EndpointReply)
    assert reply.endpoint is not None, reply.refusal
    return reply.endpoint


async def test_500_twice_then_200_arrives_on_the_third_attempt_with_three_attempts_logged(
    notifier: NotifierService, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    endpoint, receiver = await endpoint_with_receiver(bus, receivers, answers="500,500,200")
    message = await send_test(bus, endpoint.id)
    got = await receiver.wait_for(3)
    assert [r["status"] for r in got] == [500, 500, 200]
    assert {r["id"] for r in got} == {message.id}  # the same webhook-id on every attempt
    assert all(r["verified"] == [True] for r in got)
    logged = await wait_until(lambda: message_in_log(bus, endpoint.id, message.id, "succeeded"))
    assert [a.status_code for a in logged.attempts] == [500, 500, 200]
    assert [a.succeeded for a in logged.attempts] == [False, False, True]
    assert (await get_endpoint(bus, endpoint.id)).failing_since is None  # the streak ended


async def test_410_gone_disables_the_endpoint_at_once_and_tells_the_audit_trail(
    notifier: NotifierService, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    js = bus.connection.jetstream()
    await ensure_audit_stream(js)
    endpoint, receiver = await endpoint_with_receiver(bus, receivers, answers="410")
    message = await send_test(bus, endpoint.id)

    async def disabled() -> w.EndpointView | None:
        view = await get_endpoint(bus, endpoint.id)
        return view if not view.enabled else None

    view = await wait_until(disabled)
    assert view.disabled_reason == "gone" and view.disabled_at is not None
    assert view.exhausted_messages == 1
    assert len(receiver.received()) == 1  # no retry after a 410
    assert (await message_in_log(bus, endpoint.id, message.id, "failed")) is not None
    # A disabled endpoint gets no new messages.
    await publish(bus, lifecycle(new_id())[:1])
    await asyncio.sleep(1.0)
    assert len(receiver.received()) == 1
    audit_entry = await js.get_last_msg(
        subjects.AUDIT_STREAM, subjects.audit_subject("webhook_endpoint_disabled", OWNER)
    )
    entry = audit.decode(audit_entry.data or b"")
    assert entry.target == endpoint.id and entry.error_code == "gone" and entry.status_code == 410


async def test_a_timeout_is_a_failed_attempt(
    notifier: NotifierService, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    endpoint, _ = await endpoint_with_receiver(bus, receivers, delay=3.0)  # the timeout is 2 s
    message = await send_test(bus, endpoint.id)

    async def attempted() -> w.MessageView | None:
        found = await message_in_log(bus, endpoint.id, message.id, "pending")
        return found if found is not None and found.attempts else None

    logged = await wait_until(attempted)
    first = logged.attempts[0]
    assert first.status_code is None and not first.succeeded
    assert "timed out" in first.error
    assert 1900 <= first.latency_ms < 3000


async def test_rotation_signs_with_both_secrets_for_the_overlap(
    notifier: NotifierService, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    port = free_port()
    endpoint, old = await create_endpoint(bus, f"http://127.0.0.1:{port}/hooks")
    rotated = await ask(
        bus, w.ROTATE_SECRET, w.RotateSecret(owner_id=OWNER, endpoint_id=endpoint.id), w.EndpointWithSecret
    )
    assert rotated.endpoint is not None and rotated.secret.startswith("whsec_") and rotated.secret != old
    assert rotated.endpoint.previous_secret_expires_at is not None
    receiver = receivers([old, rotated.secret], port=port)
    await send_test(bus, endpoint.id)
    (got,) = await receiver.wait_for(1)
    assert got["verified"] == [True, True]  # each secret verifies one of the two signatures
    assert len(got["signature"].split(" ")) == 2


async def test_resend_and_recover_deliver_again_with_the_same_webhook_id(
    notifier: NotifierService, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    # Four failures exhaust a message (three retries), then the receiver is fixed.
    js = bus.connection.jetstream()
    await ensure_audit_stream(js)
    endpoint, receiver = await endpoint_with_receiver(bus, receivers, answers="500,500,500,500,204")
    before = datetime.now(UTC)
    message = await send_test(bus, endpoint.id)
    exhausted = await wait_until(lambda: message_in_log(bus, endpoint.id, message.id, "failed"))
    assert len(exhausted.attempts) == 4
    assert (await get_endpoint(bus, endpoint.id)).exhausted_messages == 1
    told = await js.get_last_msg(subjects.AUDIT_STREAM, subjects.audit_subject("webhook_message_exhausted", OWNER))
    entry = audit.decode(told.data or b"")
    assert entry.target == endpoint.id and entry.status_code == 500

    recovered = await ask(
        bus,
        w.RECOVER_MESSAGES,
        w.RecoverMessages(owner_id=OWNER, endpoint_id=endpoint.id, since=before),
        w.RecoverReply,
    )
    assert recovered.queued == 1
    got = await receiver.wait_for(1, status=204)
    assert [r["id"] for r in got] == [message.id]

    resend = w.ResendMessage(owner_id=OWNER, endpoint_id=endpoint.id, message_id=message.id)
    assert (await ask(bus, w.RESEND_MESSAGE, resend, w.MessageReply)).refusal is None
    got = await receiver.wait_for(2, status=204)
    assert [r["id"] for r in got] == [message.id, message.id]
    assert all(r["verified"] == [True] for r in got)


async def test_another_owners_endpoint_is_not_found(notifier: NotifierService, bus: NatsBroker) -> None:
    endpoint, _ = await create_endpoint(bus, "http://127.0.0.1:9/hooks")
    other = "owner-2"
    ids = Owned(owner_id=other, endpoint_id=endpoint.id)
    replies: list[w.EndpointReply | w.MessageReply | w.DeliveryPage | w.RecoverReply | w.EndpointWithSecret] = [
        await ask(bus, w.GET_ENDPOINT, w.GetEndpoint(**ids), w.EndpointReply),
        await ask(bus, w.UPDATE_ENDPOINT, w.UpdateEndpoint(**ids, enabled=False), w.EndpointReply),
        await ask(bus, w.DELETE_ENDPOINT, w.DeleteEndpoint(**ids), w.EndpointReply),
        await ask(bus, w.SEND_TEST, w.SendTest(**ids), w.MessageReply),
        await ask(bus, w.LIST_DELIVERIES, w.ListDeliveries(**ids), w.DeliveryPage),
        await ask(bus, w.RESEND_MESSAGE, w.ResendMessage(**ids, message_id="msg_x"), w.MessageReply),
        await ask(bus, w.RECOVER_MESSAGES, w.RecoverMessages(**ids, since=datetime.now(UTC)), w.RecoverReply),
        await ask(bus, w.ROTATE_SECRET, w.RotateSecret(**ids), w.EndpointWithSecret),
    ]
    assert all(r.refusal is not None and r.refusal.code == "not_found" for r in replies), replies
    assert (await ask(bus, w.LIST_ENDPOINTS, w.ListEndpoints(owner_id=other), w.EndpointList)).endpoints == []
    assert (await get_endpoint(bus, endpoint.id)).enabled  # untouched by the other owner's requests


async def test_a_slow_endpoint_does_not_hold_a_fast_one_back(
    notifier: NotifierService, bus: NatsBroker, receivers: Callable[..., Receiver]
) -> None:
    _, slow = await endpoint_with_receiver(bus, receivers, delay=0.8)
    _, fast = await endpoint_with_receiver(bus, receivers)
    await publish(bus, lifecycle(new_id()))
    got = await fast.wait_for(9, timeout=10)
    assert len(got) == 9
    # Meanwhile the slow one, taking 0.8 s per message, has had at most a few.
    assert len(slow.received()) <= 5  # (one after another, all 9 would be in before the fast one had its last)
    assert len(await slow.wait_for(9, timeout=30)) == 9
