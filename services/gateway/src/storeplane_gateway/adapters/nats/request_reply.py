"""Request-reply on NATS: send a query struct, decode the reply struct, or say that nobody answered.

`NatsBus.request` sends; `ask` is what the clients of the status service, the provisioner and the
notifier use, each naming the error that says its service did not answer.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import msgspec

from storeplane_gateway.domain.errors import DependencyUnavailable, StatusUnavailable

ReplyT = TypeVar("ReplyT")


class NoReply(Exception):
    """Nobody answered a request on its subject in time."""


class Requester(Protocol):
    """Request-reply on the bus: `NatsBus` is one."""

    async def request(self, subject: str, payload: bytes, *, max_wait: float) -> bytes: ...


async def ask(
    requester: Requester,
    subject: str,
    query: msgspec.Struct,
    reply_type: type[ReplyT],
    *,
    timeout: float,
    unavailable: type[DependencyUnavailable] = StatusUnavailable,
) -> ReplyT:
    """Send `query`, decode the reply; no answer or an unreadable one (an empty body: the service could
    not answer) is `unavailable`."""
    try:
        body = await requester.request(subject, msgspec.json.encode(query), max_wait=timeout)
    except NoReply as exc:
        raise unavailable(str(exc)) from exc
    try:
        return msgspec.json.decode(body, type=reply_type)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise unavailable(f"unreadable reply on {subject}: {exc}") from exc
