"""Request-reply over NATS, the one way a service answers questions from another (the status
service's queries, the notifier's webhook API): msgspec JSON in and out, from a queue group so that
any instance may answer. A request that cannot be answered gets an empty body and a
`Storeplane-Error` header, so that the caller fails at once instead of on its timeout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog
from faststream.nats import NatsBroker, NatsResponse
from structlog.types import FilteringBoundLogger

from storeplane_runtime.consumers import raw_body

log: FilteringBoundLogger = structlog.get_logger(__name__)

ERROR_HEADER = "Storeplane-Error"

_encoder = msgspec.json.Encoder()


def register_responder(
    broker: NatsBroker,
    subject: str,
    request_type: type[msgspec.Struct],
    answer: Callable[[Any], Awaitable[msgspec.Struct]],
    *,
    queue: str,
    workers: int,
    title: str,
    name: str,
) -> None:
    """Answers `subject`'s requests with `answer`; `title` names the subscriber in the AsyncAPI
    document, `name` the handler in FastStream's logs."""
    decoder = msgspec.json.Decoder(request_type)

    async def respond(body: bytes) -> NatsResponse:
        try:
            request = decoder.decode(body)
        except msgspec.DecodeError as exc:
            log.warning("malformed request", subject=subject, error=str(exc))
            return NatsResponse(b"", headers={ERROR_HEADER: f"bad request: {exc}"})
        try:
            reply = await answer(request)
        except Exception:
            log.exception("request failed", subject=subject, request=request_type.__name__)
            return NatsResponse(b"", headers={ERROR_HEADER: "internal error"})
        return NatsResponse(_encoder.encode(reply), headers={"content-type": "application/json"})

    respond.__name__ = respond.__qualname__ = name
    subscriber = broker.subscriber(subject, queue=queue, max_workers=workers, decoder=raw_body, title=title)
    subscriber(respond)
