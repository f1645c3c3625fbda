"""The contract of the gateway's webhooks port, passed by `NatsNotifierClient` (asking the real notifier
over NATS, its endpoints and messages on Postgres) and by `FakeNotifier` alike.

It asserts what the routes rely on: a secret `whsec_...` at creation and at each rotation, endpoints
scoped to their owner (another's is `WebhookNotFound`, exactly like a missing one), refusals that say
what to fix (`InvalidWebhook` with its problem, `WebhookLimitReached`), deliveries paged newest first,
resends and recoveries of failed messages, and a notifier that does not answer as `NotifierUnavailable`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from infra.local.servers import free_port
from storeplane_contracts.webhooks import TEST_EVENT, MessageView
from storeplane_gateway.adapters.nats.notifier_client import NatsNotifierClient
from storeplane_gateway.areas.webhooks.services import endpoint_id, message_id
from storeplane_gateway.domain.errors import InvalidWebhook, NotifierUnavailable, WebhookLimitReached, WebhookNotFound
from storeplane_gateway.ports import Webhooks
from storeplane_notifier.bootstrap import NotifierService, bootstrap
from storeplane_notifier.settings import NotifierSettings
from tests.integration.gateway.buses import connected_bus, until
from tests.unit.gateway.fakes import FakeNotifier

pytestmark = pytest.mark.integration

CAP = 3
ADA, BOB = "ada", "bob"


def closed_port_url() -> str:
    """A loopback URL (allowed) where nothing listens: every attempt fails at once."""
    return f"http://127.0.0.1:{free_port()}/hooks"


class Backend(Protocol):
    """The webhooks port, and the way a test makes a message fail for good."""

    @property
    def webhooks(self) -> Webhooks: ...

    async def failed_message(self, owner_id: str, endpoint_id: str) -> MessageView:
        """A message of the endpoint that ran out of attempts."""
        ...

    async def go_down(self) -> None: ...


@dataclass
class FakeBackend:
    webhooks: FakeNotifier

    async def failed_message(self, owner_id: str, endpoint_id: str) -> MessageView:
        return self.webhooks.add_message(endpoint_id, event_type=TEST_EVENT, status="failed")

    async def go_down(self) -> None:
        self.webhooks.available = False


@dataclass
class NatsBackend:
    webhooks: NatsNotifierClient
    service: NotifierService

    async def failed_message(self, owner_id: str, endpoint_id: str) -> MessageView:
        """A test message to a closed port: its one attempt and one retry fail, and it is exhausted."""
        sent = await self.webhooks.send_test(owner_id, endpoint_id)

        async def failed() -> bool:
            page = await self.webhooks.deliveries(owner_id, endpoint_id, status="failed")
            return any(message.id == sent.id for message in page.messages)

        await until(failed, timeout=15)
        return sent

    async def go_down(self) -> None:
        await self.service.stop()


@pytest.fixture(params=["fake", "nats"])
async def backend(request: pytest.FixtureRequest, clean_stream: str, database_url: str) -> AsyncIterator[Backend]:
    if request.param == "fake":
        yield FakeBackend(FakeNotifier(max_endpoints=CAP))
        return
    settings = NotifierSettings(
        nats_url=clean_stream,
        database_url=database_url,
        webhook_allowed_targets=("127.0.0.1",),
        webhook_max_endpoints=CAP,
        webhook_retry_schedule=(0.1,),
        webhook_retry_jitter=0.0,
        webhook_timeout=2.0,
        scheduler_interval=0.1,
        notifier_metrics_port=0,
        graceful_timeout=2.0,
    )
    async with bootstrap(settings) as service, connected_bus(clean_stream) as bus:
        yield NatsBackend(webhooks=NatsNotifierClient(bus, timeout=5.0), service=service)


async def test_an_endpoint_comes_with_its_secret_and_belongs_to_its_owner(backend: Backend) -> None:
    webhooks = backend.webhooks
    url = closed_port_url()
    made = await webhooks.create(ADA, url=url, events=["store.ready"], description="ERP")
    assert made.secret.startswith("whsec_") and len(made.secret) > 20
    endpoint = made.endpoint
    assert endpoint_id(endpoint.id) == endpoint.id  # an id the gateway's routes take
    assert (endpoint.owner_id, endpoint.url, endpoint.events, endpoint.description) == (
        ADA,
        url,
        ["store.ready"],
        "ERP",
    )
    assert (endpoint.enabled, endpoint.disabled_reason) == (True, "")

    assert await webhooks.endpoint(ADA, endpoint.id) == endpoint
    assert [e.id for e in await webhooks.endpoints(ADA)] == [endpoint.id]
    assert await webhooks.endpoints(BOB) == []
    for theirs in (
        webhooks.endpoint(BOB, endpoint.id),
        webhooks.update(BOB, endpoint.id, enabled=False),
        webhooks.send_test(BOB, endpoint.id),
        webhooks.deliveries(BOB, endpoint.id),
        webhooks.rotate_secret(BOB, endpoint.id),
        webhooks.recover(BOB, endpoint.id, since=datetime.now(UTC)),
        webhooks.delete(BOB, endpoint.id),
    ):
        with pytest.raises(WebhookNotFound):
            await theirs
    with pytest.raises(WebhookNotFound):
        await webhooks.endpoint(ADA, str(uuid.uuid4()))
    assert (await webhooks.endpoint(ADA, endpoint.id)).enabled  # bob changed nothing


async def test_an_endpoint_is_changed_and_deleted(backend: Backend) -> None:
    webhooks = backend.webhooks
    made = await webhooks.create(ADA, url=closed_port_url(), events=["store.ready"], description="")
    off = await webhooks.update(ADA, made.endpoint.id, enabled=False, events=["*"])
    assert (off.enabled, off.disabled_reason, off.events) == (False, "user", ["*"])
    assert off.url == made.endpoint.url
    on = await webhooks.update(ADA, made.endpoint.id, enabled=True, description="billing")
    assert (on.enabled, on.disabled_reason, on.description) == (True, "", "billing")

    deleted = await webhooks.delete(ADA, made.endpoint.id)
    assert deleted.id == made.endpoint.id
    with pytest.raises(WebhookNotFound):
        await webhooks.endpoint(ADA, made.endpoint.id)
    assert await webhooks.endpoints(ADA) == []


@pytest.mark.parametrize(
    ("url", "events", "problem"),
    [
        ("ftp://127.0.0.1/x", ["store.ready"], "invalid_url"),
        ("no url at all", ["store.ready"], "invalid_url"),
        ("http://127.0.0.2:9/hooks", ["store.ready"], "target_refused"),  # loopback, but not allowed
        ("http://127.0.0.1:9/hooks", ["store.exploded"], "invalid_events"),
        ("http://127.0.0.1:9/hooks", [], "invalid_events"),
    ],
)
async def test_what_the_notifier_refuses_says_what_to_fix(
    backend: Backend, url: str, events: list[str], problem: str
) -> None:
    with pytest.raises(InvalidWebhook) as refused:
        await backend.webhooks.create(ADA, url=url, events=events, description="")
    assert refused.value.problem == problem and refused.value.reason
    assert await backend.webhooks.endpoints(ADA) == []


async def test_a_change_is_checked_like_a_creation(backend: Backend) -> None:
    made = await backend.webhooks.create(ADA, url=closed_port_url(), events=["*"], description="")
    with pytest.raises(InvalidWebhook) as refused:
        await backend.webhooks.update(ADA, made.endpoint.id, url="http://127.0.0.2:9/hooks")
    assert refused.value.problem == "target_refused"
    with pytest.raises(InvalidWebhook) as unknown:
        await backend.webhooks.update(ADA, made.endpoint.id, events=["store.nope"])
    assert unknown.value.problem == "invalid_events"


async def test_each_owner_has_at_most_the_cap(backend: Backend) -> None:
    for _ in range(CAP):
        await backend.webhooks.create(ADA, url=closed_port_url(), events=["*"], description="")
    with pytest.raises(WebhookLimitReached) as refused:
        await backend.webhooks.create(ADA, url=closed_port_url(), events=["*"], description="")
    assert refused.value.reason
    await backend.webhooks.create(BOB, url=closed_port_url(), events=["*"], description="")


async def test_messages_are_listed_resent_and_recovered(backend: Backend) -> None:
    webhooks = backend.webhooks
    endpoint = (await webhooks.create(ADA, url=closed_port_url(), events=["*"], description="")).endpoint
    failed = await backend.failed_message(ADA, endpoint.id)
    tested = await webhooks.send_test(ADA, endpoint.id)
    assert (tested.endpoint_id, tested.event_type) == (endpoint.id, TEST_EVENT)
    assert message_id(tested.id) == tested.id  # an id the gateway's routes take

    newest = await webhooks.deliveries(ADA, endpoint.id, limit=1)
    assert [m.id for m in newest.messages] == [tested.id] and newest.next_before is not None
    older = await webhooks.deliveries(ADA, endpoint.id, limit=1, before=newest.next_before)
    assert [m.id for m in older.messages] == [failed.id]
    assert newest.next_after is not None and (newest.next_after.created_at, newest.next_after.id) == (
        tested.created_at,
        tested.id,
    )
    after = await webhooks.deliveries(ADA, endpoint.id, limit=1, after=newest.next_after)
    assert [m.id for m in after.messages] == [failed.id] and after.next_after is None and after.next_before is None
    only_failed = await webhooks.deliveries(ADA, endpoint.id, status="failed")
    assert [m.id for m in only_failed.messages] == [failed.id]

    resent = await webhooks.resend(ADA, endpoint.id, failed.id)
    assert resent.id == failed.id  # the same webhook-id
    with pytest.raises(WebhookNotFound):
        await webhooks.resend(ADA, endpoint.id, str(uuid.uuid4()))
    with pytest.raises(WebhookNotFound):
        await webhooks.resend(BOB, endpoint.id, failed.id)

    again = await backend.failed_message(ADA, endpoint.id)
    assert await webhooks.recover(ADA, endpoint.id, since=again.created_at + timedelta(hours=1)) == 0
    assert await webhooks.recover(ADA, endpoint.id, since=again.created_at - timedelta(seconds=1)) >= 1


async def test_a_rotation_gives_a_new_secret_and_keeps_the_old_one_signing_a_while(backend: Backend) -> None:
    made = await backend.webhooks.create(ADA, url=closed_port_url(), events=["*"], description="")
    assert made.endpoint.previous_secret_expires_at is None
    rotated = await backend.webhooks.rotate_secret(ADA, made.endpoint.id)
    assert rotated.secret.startswith("whsec_") and rotated.secret != made.secret
    expires = rotated.endpoint.previous_secret_expires_at
    assert expires is not None and timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)


async def test_a_notifier_that_does_not_answer_is_unavailable(backend: Backend) -> None:
    made = await backend.webhooks.create(ADA, url=closed_port_url(), events=["*"], description="")
    await backend.go_down()
    webhooks = backend.webhooks
    for call in (
        webhooks.endpoints(ADA),
        webhooks.endpoint(ADA, made.endpoint.id),
        webhooks.create(ADA, url=closed_port_url(), events=["*"], description=""),
        webhooks.send_test(ADA, made.endpoint.id),
        webhooks.rotate_secret(ADA, made.endpoint.id),
    ):
        with pytest.raises(NotifierUnavailable):
            await call
