"""The gateway's HTTP server: uvicorn with its h11 protocol, plus the limits uvicorn lacks.

uvicorn has a keep-alive timeout (`timeout_keep_alive`), but no timeout on reading a request's
headers or body, so a client that trickles either (or opens a connection and sends nothing) holds
it for as long as it likes; its concurrency cap answers in plain text; and a request line or
headers h11 cannot parse (malformed, or longer than `MAX_HEADER_BYTES`) get a plain-text 400.
`GuardedH11Protocol` adds, per connection:

- a header deadline (`http_header_timeout_seconds`): from the connection's start, or the first byte
  of the next request on a kept-alive one, to the end of the headers; then a body deadline
  (`http_body_timeout_seconds`) to the end of the body. Past either the connection is closed, with a
  408 `request_timeout` when part of a request had come (an idle new connection is just closed);
- a cap on the process's open connections (`http_max_connections`): a request on a connection beyond
  it is answered 503 `server_busy` with `Retry-After` and the connection closed (refused, not queued);
- the API's JSON error shape for the 400 of an unparseable request.

`server_config` builds the uvicorn configuration `storeplane-gateway` and the tests serve with.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from storeplane_gateway.settings import GatewaySettings

# Request line and headers together; h11's own default, named so the 400 can say it.
MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class ServerLimits:
    """How long a client may take to send a request, and how many connections a process keeps open."""

    header_timeout: float
    body_timeout: float
    max_connections: int
    retry_after_seconds: int

    @classmethod
    def of(cls, settings: GatewaySettings) -> ServerLimits:
        return cls(
            header_timeout=settings.http_header_timeout_seconds,
            body_timeout=settings.http_body_timeout_seconds,
            max_connections=settings.http_max_connections,
            retry_after_seconds=settings.retry_after_seconds,
        )


Headers = list[tuple[bytes, bytes]]


def error_bytes(code: str, message: str, extra: Headers | None = None) -> tuple[Headers, bytes]:
    """The error shape as (headers, body) for a response written outside the app."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"connection", b"close"),
        *(extra or []),
    ]
    return headers, body


def _raw_response(status: int, reason: bytes, code: str, message: str) -> bytes:
    headers, body = error_bytes(code, message)
    lines = [b"HTTP/1.1 %d %s" % (status, reason), *(name + b": " + value for name, value in headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header and body deadlines, a connection cap and JSON 400s."""

    limits: ClassVar[ServerLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_body = False
        self._partial = False  # some bytes of the next request have come
        self.app = self._guarded(self.app)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout, reading_body=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._partial = True
            if self._deadline is None:
                self._arm(self.limits.header_timeout, reading_body=False)
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        """Move the deadline along with h11's view of the client's request."""
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if not self._reading_body:
                self._arm(self.limits.body_timeout, reading_body=True)
        elif state is not h11.IDLE:
            self._disarm()  # the whole request is in: the app's turn (or the connection is ending)
            self._partial = False

    def _arm(self, seconds: float, *, reading_body: bool) -> None:
        self._disarm()
        self._reading_body = reading_body
        self._deadline = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._reading_body = False

    def _timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        answered = self.cycle is not None and self.cycle.response_started and not self.cycle.response_complete
        if (self._partial or self._reading_body) and not answered:
            part, seconds = (
                ("body", self.limits.body_timeout) if self._reading_body else ("headers", self.limits.header_timeout)
            )
            message = f"the request's {part} did not arrive within {seconds:g} seconds"
            self.transport.write(_raw_response(408, b"Request Timeout", "request_timeout", message))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        message = (
            f"the request line or headers are malformed, or longer than {MAX_HEADER_BYTES} bytes together; "
            "send an HTTP/1.1 request"
        )
        headers, body = error_bytes("invalid_request", message)
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body)):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()

    def _guarded(self, app: Any) -> Any:
        """`app`, but a request on a connection beyond the cap, or with headers over the limit, is refused."""
        limits = self.limits

        async def guarded(scope: Any, receive: Any, send: Any) -> None:
            if len(self.connections) > limits.max_connections:
                retry_after = limits.retry_after_seconds
                message = f"the server has {limits.max_connections} connections open; retry in {retry_after} s"
                retry = [(b"retry-after", str(retry_after).encode())]
                await _send_error(send, 503, "server_busy", message, retry)
            elif sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES:
                # h11 bounds only headers that arrive in pieces; these came in one read.
                message = f"the request's headers are longer than {MAX_HEADER_BYTES} bytes together"
                await _send_error(send, 431, "headers_too_large", message)
            else:
                await app(scope, receive, send)

        return guarded


async def _send_error(send: Any, status: int, code: str, message: str, extra: Headers | None = None) -> None:
    headers, body = error_bytes(code, message, extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def guarded_protocol(limits: ServerLimits) -> type[GuardedH11Protocol]:
    """The protocol class with `limits` bound (uvicorn builds one per connection)."""

    class BoundGuardedH11Protocol(GuardedH11Protocol):
        pass

    BoundGuardedH11Protocol.limits = limits
    return BoundGuardedH11Protocol


def server_config(app: Any, settings: GatewaySettings, *, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration for the gateway: the guarded protocol and every limit from `settings`."""
    options: dict[str, Any] = {
        "http": guarded_protocol(ServerLimits.of(settings)),
        "timeout_keep_alive": settings.http_keep_alive_timeout_seconds,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "log_config": None,
        # uvloop: asyncio's selector loop and socket writes were an eighth of a loaded gateway's samples
        # (docs/performance.md).
        "loop": "uvloop",
        "lifespan": "on",
        "server_header": False,
        # The client address is read by the app (`client_address.py`), from named proxies only.
        "proxy_headers": False,
        **overrides,
    }
    return uvicorn.Config(app, host=host, port=port, **options)
