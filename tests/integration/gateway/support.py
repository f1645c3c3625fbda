"""What the gateway's integration tests share: stand-ins for the status service and the notifier,
readers of the stream, and the gateway served over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import msgspec
import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from infra.local.servers import free_port
from storeplane_contracts import subjects
from storeplane_contracts import webhooks as w
from storeplane_contracts.events import AnyEvent, decode
from storeplane_contracts.queries import (
    FindLiveStoreByName,
    GetStore,
    GetStoreEvents,
    ListStores,
    StoreList,
    StoreReply,
    TimelineReply,
)
from storeplane_gateway.__main__ import GRACEFUL_SHUTDOWN_SECONDS, GatewayServer
from storeplane_gateway.app import create_app
from storeplane_gateway.domain.errors import InvalidWebhook, WebhookLimitReached, WebhookNotFound, WebhookRefused
from storeplane_gateway.http.server import server_config
from storeplane_gateway.ports import WithSecret
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import FakeNotifier, FakeStatus


class StatusResponder:
    """Answers the status query subjects from a `FakeStatus`; `silent` subscribes but never answers."""

    def __init__(self, status: FakeStatus, *, silent: bool = False) -> None:
        self.status = status
        self.silent = silent
        self.queries: list[msgspec.Struct] = []
        self._nc: Client | None = None

    async def start(self, url: str) -> None:
        self._nc = await nats.connect(url)
        routes: dict[str, Callable[[bytes], Awaitable[bytes]]] = {
            subjects.QUERY_LIST_STORES: self._list,
            subjects.QUERY_GET_STORE: self._get,
            subjects.QUERY_STORE_EVENTS: self._events,
            subjects.QUERY_FIND_LIVE_BY_NAME: self._find,
        }
        for subject, answer in routes.items():
            await self._nc.subscribe(subject, cb=self._callback(answer))
        await self._nc.flush()

    async def stop(self) -> None:
        if self._nc is not None:
            await self._nc.close()

    def _callback(self, answer: Callable[[bytes], Awaitable[bytes]]) -> Callable[[Msg], Awaitable[None]]:
        async def callback(msg: Msg) -> None:
            if not self.silent:
                await msg.respond(await answer(msg.data))

        return callback

    async def _list(self, data: bytes) -> bytes:
        query = msgspec.json.decode(data, type=ListStores)
        self.queries.append(query)
        stores = await self.status.list_stores(
            query.owner_id,
            all_owners=query.all_owners,
            include_deleted=query.include_deleted,
            limit=query.limit,
            after=query.after,
        )
        return msgspec.json.encode(StoreList(stores=stores))

    async def _get(self, data: bytes) -> bytes:
        query = msgspec.json.decode(data, type=GetStore)
        self.queries.append(query)
        store = await self.status.get_store(
            query.store_id, query.owner_id, min_sequence=query.min_sequence, any_owner=query.any_owner
        )
        return msgspec.json.encode(StoreReply(store=store))

    async def _events(self, data: bytes) -> bytes:
        query = msgspec.json.decode(data, type=GetStoreEvents)
        self.queries.append(query)
        events = await self.status.store_events(
            query.store_id,
            query.owner_id,
            min_sequence=query.min_sequence,
            any_owner=query.any_owner,
            limit=query.limit,
            after_sequence=query.after_sequence,
        )
        return msgspec.json.encode(TimelineReply(events=events))

    async def _find(self, data: bytes) -> bytes:
        query = msgspec.json.decode(data, type=FindLiveStoreByName)
        self.queries.append(query)
        return msgspec.json.encode(StoreReply(store=await self.status.find_live_store_by_name(query.name)))


def _refusal(exc: WebhookRefused) -> w.Refusal:
    """The notifier's refusal that the gateway's client turns back into `exc`."""
    if isinstance(exc, WebhookNotFound):
        return w.Refusal("not_found", exc.reason)
    if isinstance(exc, WebhookLimitReached):
        return w.Refusal("cap_reached", exc.reason)
    assert isinstance(exc, InvalidWebhook)
    return w.Refusal(exc.problem, exc.reason)  # type: ignore[arg-type]  # the fake raises the contract's codes only


async def _replied(
    call: Awaitable[Any], reply: Callable[[Any], msgspec.Struct], reply_type: Callable[..., msgspec.Struct]
) -> msgspec.Struct:
    """The fake's result as the notifier replies it, or its refusal."""
    try:
        return reply(await call)
    except WebhookRefused as exc:
        return reply_type(refusal=_refusal(exc))


def _with_secret(made: WithSecret) -> w.EndpointWithSecret:
    return w.EndpointWithSecret(endpoint=made.endpoint, secret=made.secret)


def _endpoint(endpoint: w.EndpointView) -> w.EndpointReply:
    return w.EndpointReply(endpoint=endpoint)


def _message(message: w.MessageView) -> w.MessageReply:
    return w.MessageReply(message=message)


class NotifierResponder:
    """Answers the notifier's webhook subjects from a `FakeNotifier` (which passes the real notifier's
    contract) and sends nothing anywhere: for tests that must not deliver to the URLs they make up."""

    def __init__(self, notifier: FakeNotifier) -> None:
        self.notifier = notifier
        self._nc: Client | None = None

    def _routes(self) -> dict[str, tuple[type[msgspec.Struct], Callable[[Any], Awaitable[msgspec.Struct]]]]:
        fake = self.notifier
        return {
            w.CREATE_ENDPOINT: (
                w.CreateEndpoint,
                lambda r: _replied(
                    fake.create(r.owner_id, url=r.url, events=r.events, description=r.description),
                    _with_secret,
                    w.EndpointWithSecret,
                ),
            ),
            w.LIST_ENDPOINTS: (
                w.ListEndpoints,
                lambda r: _replied(fake.endpoints(r.owner_id), lambda e: w.EndpointList(endpoints=e), w.EndpointList),
            ),
            w.GET_ENDPOINT: (
                w.GetEndpoint,
                lambda r: _replied(fake.endpoint(r.owner_id, r.endpoint_id), _endpoint, w.EndpointReply),
            ),
            w.UPDATE_ENDPOINT: (
                w.UpdateEndpoint,
                lambda r: _replied(
                    fake.update(
                        r.owner_id,
                        r.endpoint_id,
                        url=r.url,
                        events=r.events,
                        description=r.description,
                        enabled=r.enabled,
                    ),
                    _endpoint,
                    w.EndpointReply,
                ),
            ),
            w.DELETE_ENDPOINT: (
                w.DeleteEndpoint,
                lambda r: _replied(fake.delete(r.owner_id, r.endpoint_id), _endpoint, w.EndpointReply),
            ),
            w.SEND_TEST: (
                w.SendTest,
                lambda r: _replied(fake.send_test(r.owner_id, r.endpoint_id), _message, w.MessageReply),
            ),
            w.LIST_DELIVERIES: (
                w.ListDeliveries,
                lambda r: _replied(
                    fake.deliveries(
                        r.owner_id, r.endpoint_id, status=r.status, limit=r.limit, before=r.before, after=r.after
                    ),
                    lambda page: page,
                    w.DeliveryPage,
                ),
            ),
            w.RESEND_MESSAGE: (
                w.ResendMessage,
                lambda r: _replied(fake.resend(r.owner_id, r.endpoint_id, r.message_id), _message, w.MessageReply),
            ),
            w.RECOVER_MESSAGES: (
                w.RecoverMessages,
                lambda r: _replied(
                    fake.recover(r.owner_id, r.endpoint_id, since=r.since),
                    lambda queued: w.RecoverReply(queued=queued),
                    w.RecoverReply,
                ),
            ),
            w.ROTATE_SECRET: (
                w.RotateSecret,
                lambda r: _replied(fake.rotate_secret(r.owner_id, r.endpoint_id), _with_secret, w.EndpointWithSecret),
            ),
        }

    async def start(self, url: str) -> None:
        self._nc = await nats.connect(url)
        for subject, (request_type, answer) in self._routes().items():
            await self._nc.subscribe(subject, cb=self._callback(request_type, answer))
        await self._nc.flush()

    async def stop(self) -> None:
        if self._nc is not None:
            await self._nc.close()

    @staticmethod
    def _callback(
        request_type: type[msgspec.Struct], answer: Callable[[Any], Awaitable[msgspec.Struct]]
    ) -> Callable[[Msg], Awaitable[None]]:
        async def callback(msg: Msg) -> None:
            await msg.respond(msgspec.json.encode(await answer(msgspec.json.decode(msg.data, type=request_type))))

        return callback


async def wait_until_ready(
    client: Any, timeout: float = 10.0, *, checks: tuple[str, ...] = ("nats", "postgres")
) -> None:
    """Poll `/ready` (an HTTP client, in-process or not) until `checks` are ok: by default the gateway's own
    connections, since many tests run it without a status service (or with one that does not answer)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get("/ready")
        states = response.json().get("checks", {}) if response.status_code in (200, 503) else {}
        if all(states.get(name) == "ok" for name in checks):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"gateway not ready after {timeout}s: {response.text}")
        await asyncio.sleep(0.05)


async def stored_events(nats_url: str, *, expected: int, wait: float = 2.0) -> list[tuple[Msg, AnyEvent]]:
    """Read the STORES stream from the start with an ephemeral pull consumer."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        consumer = await js.pull_subscribe(
            subjects.ALL_STORE_EVENTS,
            stream=subjects.STREAM,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        messages: list[Msg] = []
        if expected:
            messages = await consumer.fetch(expected, timeout=wait)
        await consumer.unsubscribe()
        return [(msg, decode(msg.data)) for msg in messages]
    finally:
        await nc.close()


async def stream_size(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(subjects.STREAM)
        return int(info.state.messages)
    finally:
        await nc.close()


@contextlib.asynccontextmanager
async def served(settings: GatewaySettings, *, port: int | None = None, access_log: bool = False) -> AsyncIterator[str]:
    """The gateway under uvicorn on loopback, in this process, as `storeplane-gateway` runs it (its server,
    which ends the event streams when it stops, with `server_config`'s limits); yields its base URL once it
    is ready with the status service answering (start that first)."""
    port = port or free_port()
    app = create_app(settings)
    config = server_config(
        app,
        settings,
        host="127.0.0.1",
        port=port,
        access_log=access_log,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = GatewayServer(config, app)
    serving = asyncio.create_task(server.serve())
    try:
        base_url = f"http://127.0.0.1:{port}"
        async with asyncio.timeout(20):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
                await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=base_url) as client:
            await wait_until_ready(client, timeout=20, checks=("nats", "postgres", "status"))
        yield base_url
    finally:
        server.should_exit = True
        await serving
