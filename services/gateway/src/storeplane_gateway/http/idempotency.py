"""`Idempotency-Key` on commands: the same key with the same request again gets the first answer.

A route handler opts in with `opt={IDEMPOTENT: True}` and documents the header with a parameter
of type `IdempotencyKeyHeader`. The middleware runs on the stores router after authentication
and the rate limits, so the caller is known. A request without the header passes untouched.
With one, the key is checked (else 400 `invalid_idempotency_key`), the route's guards run (a
credential that may not give the command learns nothing about the key), and the key is claimed
for the caller and the operation (method and path, store id included), with the request's
fingerprint:

- the claim is new: the handler runs; a 2xx answer is kept under the key before it is sent,
  anything else (an error, an exception) releases the key, so a retry after a 503 runs again;
- the key holds a different request: 409 `idempotency_key_reused`;
- it holds this request's answer: that answer again, with `Idempotent-Replayed: true`; the
  handler does not run, so nothing is published;
- this request is still in flight: 409 `idempotency_key_in_use`, with `Retry-After`.

The fingerprint is a SHA-256 of the method, the path and the body; a JSON body is taken in
canonical form (keys sorted, no whitespace), so its formatting does not matter. Keys live
`ttl_seconds`; a claim never settled (its gateway died) is abandoned after `lease_seconds`.
Replays and refusals leave through the app's `before_send` hooks like any answer, so they are audited.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
import structlog
from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.params import HeaderParameter
from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from storeplane_gateway.domain.idempotency import IdempotencyKey, KeyHeld, StoredResponse
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.http.app_state import adapters_of
from storeplane_gateway.http.audit_hook import note, target_of
from storeplane_gateway.http.errors import ApiError

log = structlog.get_logger(__name__)

IDEMPOTENT = "idempotent"  # the route handler option that opts in
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Printable ASCII, without the spaces at either end that HTTP would strip anyway.
KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"
IN_USE_RETRY_AFTER_SECONDS = 1
# What a client needs from a replayed answer besides its status and body.
_KEPT_HEADERS = ("content-type", "location", "x-stream-sequence", "x-trace-id")
_KEY = re.compile(KEY_PATTERN)

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        required=False,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=KEY_PATTERN,
        description=(
            "Makes a retry safe: the same key with the same request within 24 hours returns the first answer "
            f"(with `{REPLAYED_HEADER}: true`) and does nothing again; the same key with another request is a 409. "
            "1 to 255 printable ASCII characters, such as a UUID; scoped to you and to this operation."
        ),
    ),
]


def checked_key(values: list[str]) -> str:
    """The one valid key among the header's values, or 400 `invalid_idempotency_key` saying what to fix."""
    if len(values) != 1:
        problem = f"send one {HEADER} header, not {len(values)}"
    elif not 1 <= len(values[0]) <= MAX_KEY_LENGTH:
        problem = f"an {HEADER} has 1 to {MAX_KEY_LENGTH} characters, not {len(values[0])}"
    elif not _KEY.fullmatch(values[0]):
        problem = f"an {HEADER} has printable ASCII characters only (letters, digits, punctuation, inner spaces)"
    else:
        return values[0]
    raise ApiError(400, "invalid_idempotency_key", f"{problem}; a UUID makes a good key")


def operation_of(method: str, path: str) -> str:
    """Method and path, percent-encoded (Postgres text holds no NUL), without a trailing slash."""
    return f"{method} {quote(path.rstrip('/') or '/', safe='/')}"


def fingerprint_of(operation: str, body: bytes) -> str:
    try:
        canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted")
    except msgspec.DecodeError:
        canonical = body  # not JSON (or empty): the bytes as they came
    return hashlib.sha256(operation.encode() + b"\n" + canonical).hexdigest()


class _HeldAnswer:
    """The handler's answer, held back until its key is settled, then sent on."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        starts = [m["status"] for m in self.messages if m["type"] == "http.response.start"]
        return int(starts[0]) if starts else 500

    def stored(self, target: str) -> StoredResponse:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in start.get("headers", [])}
        return StoredResponse(
            status_code=int(start["status"]),
            headers={name: headers[name] for name in _KEPT_HEADERS if name in headers},
            body=b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"),
            target=target,
        )

    async def send_on(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


async def _settle(step: Awaitable[bool], key: IdempotencyKey, what: str) -> None:
    """Complete or release a claim. The command has run, so its answer goes out even if this fails:
    a claim left unsettled frees its key when its lease ends."""
    try:
        settled, reason = await step, "the claim was taken over"
    except Exception as exc:  # the database is down, most likely; the answer matters more than the key
        settled, reason = False, repr(exc)
    if not settled:
        log.warning("idempotency.unsettled", what=what, operation=key.operation, reason=reason)


class IdempotentCommands(ASGIMiddleware):
    """Runs an opted-in command once per `Idempotency-Key` and replays its answer to repeats."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, *, ttl_seconds: float, lease_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._lease = lease_seconds

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive)
        values = request.headers.getall(HEADER, [])
        principal = scope.get("user")
        if not values or not request.route_handler.opt.get(IDEMPOTENT) or not isinstance(principal, Principal):
            await next_app(scope, receive, send)
            return
        operation = operation_of(request.method, request.scope["path"])
        key = IdempotencyKey(principal_id=principal.id, operation=operation, key=checked_key(values))
        await request.route_handler.authorize_connection(request)
        fingerprint = fingerprint_of(key.operation, await request.body())  # the handler reads it again from the scope
        keys = adapters_of(request.app.state).idempotency
        claim = await keys.claim(key, fingerprint, ttl=self._ttl, lease=self._lease)
        if isinstance(claim, KeyHeld):
            await self._answer_held(claim, fingerprint, request, send)
            return
        answer = _HeldAnswer()
        try:
            await next_app(scope, receive, answer.send)
        except BaseException:  # errors became answers inside; this is a cancellation or a crash
            await _settle(keys.release(key, claim.token), key, "release")
            raise
        if 200 <= answer.status < 300:
            await _settle(keys.complete(key, claim.token, answer.stored(target_of(scope))), key, "complete")
        else:
            await _settle(keys.release(key, claim.token), key, "release")
        await answer.send_on(send)

    @staticmethod
    async def _answer_held(held: KeyHeld, fingerprint: str, request: Request[Any, Any, Any], send: Send) -> None:
        if held.fingerprint != fingerprint:
            raise ApiError(
                409,
                "idempotency_key_reused",
                f"this {HEADER} was used for a different request; use a new key for a new request",
            )
        if held.response is None:
            raise ApiError(
                409,
                "idempotency_key_in_use",
                f"a request with this {HEADER} is still being processed; "
                f"retry in {IN_USE_RETRY_AFTER_SECONDS} second to get its answer",
                {"Retry-After": str(IN_USE_RETRY_AFTER_SECONDS)},
            )
        stored = held.response
        if stored.target:
            note(request, target=stored.target)
        replay = ASGIResponse(
            body=stored.body, status_code=stored.status_code, headers={**stored.headers, REPLAYED_HEADER: "true"}
        )
        await replay(request.scope, request.receive, send)
