"""The body of the ticket route; the streamed messages are documented in docs/streams.md."""

from __future__ import annotations

import msgspec


class StreamTicketBody(msgspec.Struct, frozen=True):
    """A single-use ticket: pass it as `?ticket=` to a stream route within `expires_in` seconds."""

    ticket: str
    expires_in: int
