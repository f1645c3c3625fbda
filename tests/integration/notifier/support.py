"""Helpers for the notifier's integration tests: receiver processes and the request-reply API."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from faststream.nats import NatsBroker
from nats.errors import NoRespondersError

from storeplane_contracts import webhooks as w
from storeplane_runtime.responders import ERROR_HEADER

Reply = TypeVar("Reply", bound=msgspec.Struct)
OWNER = "owner-1"


@dataclasses.dataclass
class Receiver:
    """A receiver process and what it recorded."""

    process: subprocess.Popen[bytes]
    port: int
    record: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def received(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line.strip()]

    async def wait_for(self, count: int, timeout: float = 20.0, **matching: Any) -> list[dict[str, Any]]:
        """Wait until `count` messages (with these top-level fields) arrived; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.received() if all(r.get(k) == v for k, v in matching.items())]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_receiver(
    record: Path,
    secrets: list[str],
    *,
    port: int = 0,
    answers: str = "204",
    delay: float = 0.0,
    host: str = "127.0.0.1",
) -> Receiver:
    args = [sys.executable, "-m", "storeplane_notifier.receiver", "--host", host, "--port", str(port)]
    args += ["--record", str(record)]
    args += ["--answers", answers, "--delay", str(delay)]
    for secret in secrets:
        args += ["--secret", secret]
    output = record.with_suffix(".out")
    with output.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while not output.read_text().startswith("listening on"):  # "listening on http://127.0.0.1:PORT"
        assert process.poll() is None and time.monotonic() < deadline, output.read_text()
        time.sleep(0.05)
    first = output.read_text().splitlines()[0]
    return Receiver(process, int(first.rsplit(":", 1)[1]), record)


class NobodyAnswers(AssertionError):
    """No notifier answered a request, even asked again for a moment."""


async def ask(bus: NatsBroker, subject: str, request: msgspec.Struct, reply_type: type[Reply]) -> Reply:
    """One request over NATS request-reply, decoded as the gateway decodes it.

    A request sent the instant the notifier reports it started has, rarely, found no responder
    (seen once in a full CI run, cause not found: the notifier flushes after subscribing); the
    gateway answers that as 503 `notifier_unavailable`, and this asks again for a moment."""
    for _ in range(20):
        try:
            response = await bus.request(msgspec.json.encode(request), subject, timeout=10)
            break
        except NoRespondersError:
            await asyncio.sleep(0.1)
    else:
        raise NobodyAnswers(f"nobody answers {subject}")
    assert ERROR_HEADER not in (response.headers or {}), response.headers
    return msgspec.json.decode(response.body, type=reply_type)


async def create_endpoint(
    bus: NatsBroker, url: str, events: list[str] | None = None, owner_id: str = OWNER
) -> tuple[w.EndpointView, str]:
    request = w.CreateEndpoint(owner_id=owner_id, url=url, events=events or ["*"])
    reply = await ask(bus, w.CREATE_ENDPOINT, request, w.EndpointWithSecret)
    assert reply.refusal is None and reply.endpoint is not None, reply.refusal
    return reply.endpoint, reply.secret


async def endpoint_with_receiver(
    bus: NatsBroker, receivers: Callable[..., Receiver], events: list[str] | None = None, **receiver: Any
) -> tuple[w.EndpointView, Receiver]:
    """An endpoint and the receiver process behind it, which knows the endpoint's secret."""
    port = free_port()
    endpoint, secret = await create_endpoint(bus, f"http://127.0.0.1:{port}/hooks", events)
    return endpoint, receivers([secret], port=port, **receiver)


async def deliveries(bus: NatsBroker, endpoint_id: str, owner_id: str = OWNER, **query: Any) -> list[w.MessageView]:
    request = w.ListDeliveries(owner_id=owner_id, endpoint_id=endpoint_id, **query)
    reply = await ask(bus, w.LIST_DELIVERIES, request, w.DeliveryPage)
    assert reply.refusal is None, reply.refusal
    return reply.messages


async def wait_until(check: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)
