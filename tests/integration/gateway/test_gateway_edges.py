"""The gateway's HTTP edges, served by its real server (uvicorn with `http/server.py`'s protocol) on
loopback: slow clients are cut off within the configured limits, connections beyond the cap are
refused, unparseable requests get the JSON error shape, and `X-Forwarded-For` is believed only from
a proxy the operator named, and only when it holds an IP address."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeAlias

import httpx
import pytest

from storeplane_gateway.settings import GatewaySettings
from tests.integration.gateway.support import StatusResponder, served
from tests.unit.gateway.fakes import FakeStatus
from tests.unit.gateway.helpers import sign_up, sign_up_admin

pytestmark = pytest.mark.integration

LIMIT = 1.5  # seconds: every slow-client limit in these tests
SLACK = 2.5  # what the test allows beyond a limit before calling it not enforced


Gateway: TypeAlias = Callable[[GatewaySettings], AbstractAsyncContextManager[tuple[str, int]]]


@pytest.fixture
def gateway(clean_audit: str) -> Gateway:
    """Serves a gateway: its base URL and port, with a stand-in status service answering (as the
    privileged test user: the gateway's own NATS user may not answer status queries)."""

    @asynccontextmanager
    async def serve(settings: GatewaySettings) -> AsyncIterator[tuple[str, int]]:
        responder = StatusResponder(FakeStatus())
        await responder.start(clean_audit)
        try:
            async with served(settings) as base_url:
                yield base_url, int(base_url.rsplit(":", 1)[1])
        finally:
            await responder.stop()

    return serve


@pytest.fixture
def edge_settings(gateway_settings: GatewaySettings) -> GatewaySettings:
    return gateway_settings.model_copy(
        update={
            "http_header_timeout_seconds": LIMIT,
            "http_body_timeout_seconds": LIMIT,
            "http_keep_alive_timeout_seconds": 1,
            "http_max_connections": 3,
        }
    )


async def _answer_or_close(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed it."""
    data = await asyncio.wait_for(reader.read(), timeout=LIMIT + SLACK + 5)
    return data, time.monotonic()


def _json_error(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"application/json" in head.lower(), head
    return status, json.loads(body)


async def _trickle(writer: asyncio.StreamWriter, data: bytes, until: Callable[[], bool]) -> None:
    for byte in data:
        if until():
            return
        writer.write(bytes([byte]))
        try:
            await writer.drain()
        except ConnectionError:
            return
        await asyncio.sleep(0.3)


async def test_a_client_trickling_its_headers_gets_408_within_the_limit(
    gateway: Gateway, edge_settings: GatewaySettings
) -> None:
    async with gateway(edge_settings) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 100 + b"\r\n\r\n"
        trickling = asyncio.create_task(_trickle(writer, request, reader.at_eof))
        raw, closed = await _answer_or_close(reader)
        trickling.cancel()
        writer.close()
    assert closed - started < LIMIT + SLACK
    status, body = _json_error(raw)
    assert status == 408 and body["error"]["code"] == "request_timeout"
    assert "headers" in body["error"]["message"]


async def test_a_client_trickling_its_body_gets_408_within_the_limit(
    gateway: Gateway, edge_settings: GatewaySettings
) -> None:
    async with gateway(edge_settings) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = b'{"email": "slow@example.com", "password": "' + b"p" * 100 + b'"}'
        head = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body))
        started = time.monotonic()
        trickling = asyncio.create_task(_trickle(writer, body, reader.at_eof))
        raw, closed = await _answer_or_close(reader)
        trickling.cancel()
        writer.close()
    assert closed - started < LIMIT + SLACK
    status, answer = _json_error(raw)
    assert status == 408 and "body" in answer["error"]["message"]


async def test_idle_connections_are_closed_within_the_limits(gateway: Gateway, edge_settings: GatewaySettings) -> None:
    async with gateway(edge_settings) as (_, port):
        # One that never sends a byte: closed by the header deadline, without an answer.
        silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", port)
        # One kept alive after a request: closed by the keep-alive timeout (1 s).
        kept_reader, kept_writer = await asyncio.open_connection("127.0.0.1", port)
        kept_writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        started = time.monotonic()
        (silent, silent_closed), (kept, kept_closed) = await asyncio.gather(
            _answer_or_close(silent_reader), _answer_or_close(kept_reader)
        )
        silent_writer.close()
        kept_writer.close()
    assert silent == b"" and silent_closed - started < LIMIT + SLACK
    assert kept.startswith(b"HTTP/1.1 200") and kept_closed - started < 1 + SLACK


async def test_requests_beyond_the_connection_cap_are_refused_with_503(
    gateway: Gateway, edge_settings: GatewaySettings
) -> None:
    async with gateway(edge_settings) as (base_url, port):
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]  # the cap: 3
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient(base_url=base_url) as client:
            refused = await client.get("/health")
            for _, writer in held:
                writer.close()
            await asyncio.sleep(0.3)
            served_again = await client.get("/health")
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "server_busy"
    assert refused.headers["retry-after"] == str(edge_settings.retry_after_seconds)
    assert served_again.status_code == 200


LONG_HEADERS = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "in_pieces", "expected"),
    [
        (b"GARBAGE\r\n\r\n", False, {(400, "invalid_request")}),
        (LONG_HEADERS, False, {(431, "headers_too_large")}),
        # h11 refuses them as they pile up (400), or they complete in a read and the guard refuses them (431).
        (LONG_HEADERS, True, {(400, "invalid_request"), (431, "headers_too_large")}),
    ],
    ids=["malformed request line", "over-long headers", "over-long headers in pieces"],
)
async def test_an_unparseable_request_gets_the_json_error_shape(
    gateway: Gateway,
    edge_settings: GatewaySettings,
    request_bytes: bytes,
    in_pieces: bool,
    expected: set[tuple[int, str]],
) -> None:
    async with gateway(edge_settings) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for start in range(0, len(request_bytes), 4096 if in_pieces else len(request_bytes)):
            writer.write(request_bytes[start : start + (4096 if in_pieces else len(request_bytes))])
            await writer.drain()
            await asyncio.sleep(0.05 if in_pieces else 0)
        raw, _ = await _answer_or_close(reader)
        writer.close()
    status, body = _json_error(raw)
    assert (status, body["error"]["code"]) in expected
    assert "16384 bytes" in body["error"]["message"]


async def test_rotating_forwarded_for_from_loopback_does_not_evade_the_limit(
    gateway: Gateway,
    gateway_settings: GatewaySettings,
) -> None:
    """No proxy is trusted by default, so 127.0.0.1 is one address however it labels its requests."""
    async with gateway(gateway_settings) as (base_url, _), httpx.AsyncClient(base_url=base_url) as client:
        statuses = [
            (
                await client.post(
                    "/api/v1/auth/refresh",
                    json={"refresh_token": "not-a-token"},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},
                )
            ).status_code
            for n in range(35)
        ]
    assert statuses[:30] == [401] * 30
    assert statuses[30:] == [429] * 5


async def _audited_addresses(base_url: str, grant: Callable[[str], Awaitable[None]], forwarded: list[str]) -> list[str]:
    """Log in once per `X-Forwarded-For` value; the client addresses the audit trail recorded for them."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        root = await sign_up_admin(client, grant)
        await sign_up(client, "ada@example.com")
        for value in forwarded:
            credentials = {"email": "ada@example.com", "password": "correct horse"}
            answer = await client.post("/api/v1/auth/login", json=credentials, headers={"X-Forwarded-For": value})
            assert answer.status_code == 200, answer.text
        trail = await client.get("/api/v1/admin/audit?action=login&limit=100", headers=root.headers)
    entries = [entry for entry in trail.json()["entries"] if entry["actor_email"] == "ada@example.com"]
    return sorted(entry["client_address"] for entry in entries)


async def test_a_named_proxys_forwarded_address_is_used_and_garbage_is_not(
    gateway: Gateway, gateway_settings: GatewaySettings, grant_admin: Callable[[str], Awaitable[None]]
) -> None:
    settings = gateway_settings.model_copy(update={"forwarded_allow_ips": "127.0.0.1"})
    forwarded = ["203.0.113.7", "<script>alert(1)</script>", "203.0.113.8, 127.0.0.1", "2001:db8::1"]
    async with gateway(settings) as (base_url, _):
        addresses = await _audited_addresses(base_url, grant_admin, forwarded)
    # The garbage value leaves the proxy's own address; the trusted proxy at the end of a chain is skipped.
    assert addresses == sorted(["203.0.113.7", "127.0.0.1", "203.0.113.8", "2001:db8::1"])
