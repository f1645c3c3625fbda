"""Every service's NATS user is refused outside its own subjects (storeplane_contracts.permissions).

Each service connects as its own user: whoever holds one service's password cannot speak for another
(publish a StoreReady, a store command), read another's replies, or touch another's durable consumer;
the read-only `reader` follows `stores.>` and publishes nothing. The privileged test user sets up.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from infra.local.servers import Server
from storeplane_contracts import subjects
from storeplane_contracts.events import StoreReady, StoreRequested, encode
from storeplane_runtime.bus import ensure_stream, stream_has
from storeplane_runtime.settings import NatsLogin

pytestmark = pytest.mark.integration

Connect = Callable[[str], Awaitable[tuple[Client, list[str]]]]


@pytest.fixture
async def connect_as(clean_stream: str, nats_server: Server) -> AsyncIterator[Connect]:
    """Connect as one of the table's users; the list collects the server's refusals."""
    admin = await nats.connect(clean_stream)
    await ensure_stream(admin.jetstream())
    opened = [admin]

    async def connect(user: str) -> tuple[Client, list[str]]:
        refusals: list[str] = []

        async def on_error(error: Exception) -> None:
            refusals.append(str(error))

        login = NatsLogin(user, None).connect_options() | {"password": nats_server.extra[user]}
        client = await nats.connect(f"nats://127.0.0.1:{nats_server.port}", error_cb=on_error, **login)
        opened.append(client)
        return client, refusals

    yield connect
    for client in opened:
        await client.close()


def _ready(store_id: str) -> StoreReady:
    return StoreReady(store_id=store_id, owner_id="someone", urls={"storefront": "http://forged.example"})


async def _publish(client: Client, subject: str, data: bytes = b"{}") -> None:
    await client.publish(subject, data)
    await client.flush()
    await asyncio.sleep(0.2)  # the server's -ERR arrives after the flush's PONG at the latest


async def _stored(clean_stream: str, subject: str) -> bool:
    admin = await nats.connect(clean_stream)
    try:
        return await stream_has(admin.jetstream(), subject)
    finally:
        await admin.close()


@pytest.mark.parametrize("user", ["status", "gateway", "reader", "notifier"])
async def test_only_the_provisioner_may_publish_a_store_ready(
    connect_as: Connect, clean_stream: str, user: str
) -> None:
    store_id = str(uuid.uuid4())
    subject = subjects.subject_for(_ready(store_id))
    client, refusals = await connect_as(user)
    await _publish(client, subject, encode(_ready(store_id)))
    assert any("permissions violation for publish" in r.lower() and subject in r for r in refusals), refusals
    assert not await _stored(clean_stream, subject)

    provisioner, refused = await connect_as("provisioner")
    ack = await provisioner.jetstream().publish(subject, encode(_ready(store_id)))
    assert ack.seq > 0 and refused == []
    assert await _stored(clean_stream, subject)


@pytest.mark.parametrize("user", ["status", "provisioner", "reader", "notifier"])
async def test_only_the_gateway_may_give_a_store_command(connect_as: Connect, clean_stream: str, user: str) -> None:
    subject = subjects.subject_of(str(uuid.uuid4()), StoreRequested)
    client, refusals = await connect_as(user)
    await _publish(client, subject)
    assert any("permissions violation for publish" in r.lower() for r in refusals), refusals
    assert not await _stored(clean_stream, subject)


async def test_the_reader_follows_the_stream_and_changes_nothing(connect_as: Connect, clean_stream: str) -> None:
    reader, refusals = await connect_as("reader")
    js = reader.jetstream(timeout=1)
    live = await reader.subscribe("stores.>")
    mine = await js.pull_subscribe("stores.>", durable="my-integration", stream=subjects.STREAM)
    provisioner, _ = await connect_as("provisioner")
    store_id = str(uuid.uuid4())
    await provisioner.jetstream().publish(subjects.subject_for(_ready(store_id)), encode(_ready(store_id)))
    assert (await live.next_msg(timeout=5)).subject == subjects.subject_for(_ready(store_id))
    [message] = await mine.fetch(1, timeout=5)
    await message.ack()
    assert refusals == []

    with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
        await js.delete_stream(subjects.STREAM)
    # Not the services' durable consumers: neither deleted, nor read from (a work queue would lose work).
    with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
        await js.delete_consumer(subjects.STREAM, subjects.PROVISIONER_DURABLE)
    with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
        await js.add_consumer(subjects.STREAM, ConsumerConfig(durable_name=subjects.STATUS_DURABLE))
    await _publish(reader, subjects.QUERY_GET_STORE)
    assert sum("permissions violation for publish" in r.lower() for r in refusals) == 4, refusals
    admin = await nats.connect(clean_stream)
    try:
        assert (await admin.jetstream().stream_info(subjects.STREAM)).state.messages == 1
        with pytest.raises(NotFoundError):
            await admin.jetstream().consumer_info(subjects.STREAM, subjects.STATUS_DURABLE)
    finally:
        await admin.close()


@pytest.mark.parametrize(("user", "other"), [("gateway", "provisioner"), ("reader", "gateway"), ("status", "gateway")])
async def test_nobody_reads_another_users_replies(connect_as: Connect, user: str, other: str) -> None:
    """The gateway's replies carry store credentials: only the gateway may subscribe to its inbox."""
    client, refusals = await connect_as(user)
    await client.subscribe(f"_INBOX.{other}.>")
    await client.flush()
    await asyncio.sleep(0.2)
    assert any("permissions violation for subscription" in r.lower() for r in refusals), refusals
