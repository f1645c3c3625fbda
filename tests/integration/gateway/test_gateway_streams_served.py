"""The event streams over real HTTP: the gateway served by uvicorn, the real status service beside it,
real NATS and Postgres; the provisioner's events are put on the stream as it would put them.

Every event in order, then live, ending after `StoreDeleted`; a client that hangs up and resumes
with its last id gets the remainder exactly once, on another gateway too; another user's store is
a 404 and never appears; tickets are single use and expire; the per-user cap answers 429; a
gateway that stops ends its streams cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen

import asyncpg
import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infra.local.servers import free_port, spawn, wait_for_port
from storeplane_gateway.settings import GatewaySettings
from storeplane_runtime.telemetry import setup_tracing
from storeplane_status.bootstrap import bootstrap as status_service
from storeplane_status.settings import StatusSettings
from tests.integration.gateway.streaming import Follower, deletion, following, provisioning, put_on_stream
from tests.integration.gateway.support import served, wait_until_ready
from tests.integration.gateway.test_gateway_process import gateway_command
from tests.unit.gateway.helpers import Account, assert_error, sign_up

pytestmark = pytest.mark.integration


@dataclass
class Platform:
    """The gateway's base URL and the NATS and Postgres it runs on."""

    base_url: str
    nats_url: str
    database_url: str

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url)


def _settings(nats_url: str, database_url: str, **overrides: object) -> GatewaySettings:
    return GatewaySettings.model_validate(
        {"nats_url": nats_url, "database_url": database_url, "store_creates_per_minute_per_user": 0, **overrides}
    )


@pytest.fixture
async def status(clean_audit: str, database_url: str) -> AsyncIterator[None]:
    async with status_service(StatusSettings(nats_url=clean_audit, database_url=database_url, graceful_timeout=5.0)):
        yield


@pytest.fixture
async def platform(clean_audit: str, database_url: str, status: None) -> AsyncIterator[Platform]:
    async with served(_settings(clean_audit, database_url, streams_per_user=3)) as base_url:
        yield Platform(base_url, clean_audit, database_url)


async def _order(client: httpx.AsyncClient, account: Account, name: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/stores", json={"name": name, "engine": "woocommerce"}, headers=account.headers
    )
    assert response.status_code == 202, response.text
    store: dict[str, str] = response.json()
    return store


async def test_a_store_stream_sends_the_timeline_then_live_events_and_ends_after_deletion(platform: Platform) -> None:
    async with platform.client() as client:
        ada = await sign_up(client)
        store = await _order(client, ada, "streamed")
        path = f"/api/v1/stores/{store['id']}/events/stream"
        async with following(platform.base_url, path, ada.headers) as follower:
            await follower.until(lambda f: f.types == ["StoreRequested"])
            assert follower.retry == 3000
            sequences = await put_on_stream(platform.nats_url, *provisioning(store["id"], ada.id, store["namespace"]))
            await follower.until(lambda f: len(f.received) == 5)
            sequences += await put_on_stream(platform.nats_url, *deletion(store["id"], ada.id, store["namespace"]))
            async with asyncio.timeout(10):
                await follower.ended.wait()
        assert follower.error is None
        assert follower.types == [
            "StoreRequested",
            "ProvisioningStarted",
            "NamespaceCreated",
            "QuotaApplied",
            "StoreReady",
            "StoreDeletionRequested",
            "StoreDeleted",
        ]
        assert follower.ids[1:] == sequences and follower.ids == sorted(follower.ids)
        # Each message's data is the timeline entry, plus the store's id.
        read_all = {**ada.headers, "X-Min-Sequence": str(follower.ids[-1])}  # once projected
        timeline = (await client.get(f"/api/v1/stores/{store['id']}/events", headers=read_all)).json()["events"]
        assert [{**entry, "store_id": store["id"]} for entry in timeline] == follower.bodies


async def test_a_client_that_hangs_up_mid_provisioning_resumes_with_the_remainder_exactly_once(
    platform: Platform,
) -> None:
    async with platform.client() as client:
        ada = await sign_up(client)
        store = await _order(client, ada, "resumed")
        path = f"/api/v1/stores/{store['id']}/events/stream"
        steps = provisioning(store["id"], ada.id, store["namespace"])
        async with following(platform.base_url, path, ada.headers) as first:
            await put_on_stream(platform.nats_url, *steps[:2])
            await first.until(lambda f: len(f.received) == 3)
        # Gone: the rest happens while nobody listens, and a little more once the client is back.
        await put_on_stream(platform.nats_url, *steps[2:3])
        async with following(platform.base_url, path, ada.headers, last_id=first.ids[-1]) as header_resume:
            await header_resume.until(lambda f: len(f.received) == 1)
            await put_on_stream(platform.nats_url, steps[3])
            await header_resume.until(lambda f: len(f.received) == 2)
        assert header_resume.types == ["QuotaApplied", "StoreReady"]
        async with following(platform.base_url, f"{path}?last_event_id={first.ids[1]}", ada.headers) as query_resume:
            await query_resume.until(lambda f: len(f.received) == 3)
        assert query_resume.ids == [first.ids[2], *header_resume.ids]


async def test_a_stopped_gateway_ends_its_streams_and_the_client_resumes_on_the_next_without_a_gap(
    clean_audit: str, database_url: str, status: None
) -> None:
    settings = _settings(clean_audit, database_url)
    async with served(settings) as first_url, httpx.AsyncClient(base_url=first_url) as client:
        ada = await sign_up(client)
        store = await _order(client, ada, "survivor")
    path = f"/api/v1/stores/{store['id']}/events/stream"
    steps = provisioning(store["id"], ada.id, store["namespace"])
    async with served(settings) as doomed_url, following(doomed_url, path, ada.headers) as before:
        await put_on_stream(clean_audit, steps[0])
        await before.until(lambda f: len(f.received) == 2)
    # The gateway stopped while the client followed: its stream ended cleanly (no broken connection).
    assert before.ended.is_set() and before.error is None, before.error
    await put_on_stream(clean_audit, *steps[1:])  # while no gateway runs
    async with served(settings) as next_url, following(next_url, path, ada.headers, last_id=before.ids[-1]) as after:
        await after.until(lambda f: len(f.received) == 3)
    stored = [*before.ids, *after.ids]
    assert after.types == ["NamespaceCreated", "QuotaApplied", "StoreReady"]
    assert stored == sorted(set(stored)) and len(stored) == 5


async def test_another_users_store_is_not_found_and_its_events_never_reach_the_all_stores_stream(
    platform: Platform,
) -> None:
    async with platform.client() as client:
        ada = await sign_up(client)
        bob = await sign_up(client, "bob@example.com")
        async with following(platform.base_url, "/api/v1/events/stream", bob.headers) as bobs:
            adas_store = await _order(client, ada, "adas-shop")
            bobs_store = await _order(client, bob, "bobs-shop")
            await put_on_stream(platform.nats_url, *provisioning(adas_store["id"], ada.id, adas_store["namespace"]))
            await put_on_stream(platform.nats_url, *provisioning(bobs_store["id"], bob.id, bobs_store["namespace"]))
            await bobs.until(lambda f: "StoreReady" in f.types)
            # Ada's events were on the stream before Bob's last one: had they leaked, they would be here.
            assert {body["store_id"] for body in bobs.bodies} == {bobs_store["id"]}
            assert bobs.types[0] == "StoreRequested" and len(bobs.types) == 5
        theirs = await client.get(f"/api/v1/stores/{adas_store['id']}/events/stream", headers=bob.headers)
        missing = await client.get(
            "/api/v1/stores/00000000-0000-4000-8000-000000000000/events/stream", headers=bob.headers
        )
        assert_error(theirs, 404, "store_not_found")
        assert_error(missing, 404, "store_not_found")
        assert theirs.json()["error"].keys() == missing.json()["error"].keys()
        # A user asking for every user's stores is refused before anything is streamed.
        assert_error(await client.get("/api/v1/events/stream?all=true", headers=bob.headers), 403, "admin_only")


async def test_a_ticket_opens_one_stream_once_and_never_shows_in_the_access_log_or_the_traces(
    clean_audit: str, database_url: str, status: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    spans = InMemorySpanExporter()
    provider = setup_tracing("gateway", spans)
    async with (
        served(_settings(clean_audit, database_url), access_log=True) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        ada = await sign_up(client)
        store = await _order(client, ada, "ticketed")
        issued = await client.post("/api/v1/stream-tickets", headers=ada.headers)
        assert issued.status_code == 201, issued.text
        assert issued.json()["expires_in"] == 60
        ticket = issued.json()["ticket"]
        # Only the stream routes take tickets; the ticket stays unused there.
        assert_error(await client.get(f"/api/v1/stores?ticket={ticket}"), 401, "not_authenticated")
        path = f"/api/v1/stores/{store['id']}/events/stream?ticket={ticket}"
        async with following(base_url, path) as browser:  # no Authorization header: an EventSource
            await browser.until(lambda f: f.types == ["StoreRequested"])
        assert_error(await client.get(path), 401, "invalid_stream_ticket")  # used up
        expired = (await client.post("/api/v1/stream-tickets", headers=ada.headers)).json()["ticket"]
        await _expire_tickets(database_url)
        assert_error(await client.get(f"/api/v1/events/stream?ticket={expired}"), 401, "invalid_stream_ticket")
    provider.force_flush()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    traced = "\n".join(str(dict(span.attributes or {})) for span in spans.get_finished_spans())
    assert "ticket=REDACTED" in logged and "ticket=REDACTED" in traced
    for secret in (ticket, expired):
        assert secret not in logged and secret not in traced


async def _expire_tickets(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("UPDATE gateway_stream_tickets SET expires_at = now() - interval '1 second'")
    finally:
        await connection.close()


async def test_a_user_with_as_many_streams_open_as_allowed_is_answered_429(platform: Platform) -> None:
    async with platform.client() as client, contextlib.AsyncExitStack() as streams:
        ada = await sign_up(client)
        bob = await sign_up(client, "bob@example.com")
        open_ones: list[Follower] = []
        for _ in range(3):  # the platform's cap
            follower = await streams.enter_async_context(
                following(platform.base_url, "/api/v1/events/stream", ada.headers)
            )
            assert follower.status_code == 200
            open_ones.append(follower)
        refused = await client.get("/api/v1/events/stream", headers=ada.headers)
        assert_error(refused, 429, "too_many_streams")
        assert refused.headers["retry-after"]
        # Another user's streams are counted apart.
        async with following(platform.base_url, "/api/v1/events/stream", bob.headers) as bobs:
            assert bobs.status_code == 200
        await streams.aclose()
        async with asyncio.timeout(5):
            while True:  # the hung-up streams are given back as the gateway notices
                async with following(platform.base_url, "/api/v1/events/stream", ada.headers) as again:
                    if again.status_code == 200:
                        break
                await asyncio.sleep(0.1)


async def test_an_idle_stream_sends_keep_alive_comments_then_closes_saying_why(
    clean_audit: str, database_url: str, status: None
) -> None:
    settings = _settings(clean_audit, database_url, stream_keepalive_seconds=0.2, stream_idle_seconds=1.0)
    async with served(settings) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        ada = await sign_up(client)
        async with client.stream("GET", "/api/v1/events/stream", headers=ada.headers) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = [line async for line in response.aiter_lines() if line]
    assert lines[:2] == [": stream open", "retry: 3000"]
    assert lines.count(": keep-alive") >= 3
    assert lines[-1].startswith(": closing: nothing happened")


async def test_a_malformed_last_event_id_is_a_400(platform: Platform) -> None:
    async with platform.client() as client:
        ada = await sign_up(client)
        headers = {**ada.headers, "Last-Event-ID": "yesterday"}
        assert_error(await client.get("/api/v1/events/stream", headers=headers), 400, "invalid_request")
        assert_error(
            await client.get("/api/v1/events/stream?last_event_id=-1", headers=ada.headers), 400, "invalid_request"
        )
        assert_error(await client.get("/api/v1/events/stream"), 401, "not_authenticated")


@contextlib.asynccontextmanager
async def gateway_process(
    folder: Path, port: int, nats_url: str, database_url: str, jwt_secret: str
) -> AsyncIterator[Popen[bytes]]:
    """`storeplane-gateway` as its own process on `port`, ready; SIGKILLed at the end if still running.
    Processes given one `jwt_secret` accept each other's tokens, as a restarted gateway must."""
    env = {
        **os.environ,
        "STOREPLANE_JWT_SECRET": jwt_secret,
        "STOREPLANE_HTTP_PORT": str(port),
        "STOREPLANE_NATS_URL": nats_url,
        "STOREPLANE_DATABASE_URL": database_url,
    }
    process = spawn(gateway_command(), folder / f"gateway-{time.monotonic_ns()}.log", env=env)
    try:
        await asyncio.to_thread(wait_for_port, port, process=process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_until_ready(client, timeout=20, checks=("nats", "postgres", "status"))
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        await asyncio.to_thread(process.wait, 15)


async def test_a_killed_gateway_process_restarted_while_a_client_follows_loses_it_nothing(
    tmp_path: Path, clean_audit: str, database_url: str, status: None
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    jwt_secret = secrets.token_urlsafe(48)
    async with gateway_process(tmp_path, port, clean_audit, database_url, jwt_secret) as first:
        async with httpx.AsyncClient(base_url=base_url) as client:
            ada = await sign_up(client)
            store = await _order(client, ada, "killed")
        path = f"/api/v1/stores/{store['id']}/events/stream"
        steps = provisioning(store["id"], ada.id, store["namespace"])
        async with following(base_url, path, ada.headers) as before:
            await put_on_stream(clean_audit, steps[0])
            await before.until(lambda f: len(f.received) == 2)
            first.send_signal(signal.SIGKILL)  # no goodbye: the connection just breaks
            async with asyncio.timeout(10):
                await before.ended.wait()
    await put_on_stream(clean_audit, *steps[1:3])  # while no gateway runs
    async with (
        gateway_process(tmp_path, port, clean_audit, database_url, jwt_secret),
        following(base_url, path, ada.headers, last_id=before.ids[-1]) as after,
    ):
        await put_on_stream(clean_audit, steps[3])
        await after.until(lambda f: len(f.received) == 3)
    assert after.types == ["NamespaceCreated", "QuotaApplied", "StoreReady"]
    assert [*before.ids, *after.ids] == sorted(set([*before.ids, *after.ids]))
