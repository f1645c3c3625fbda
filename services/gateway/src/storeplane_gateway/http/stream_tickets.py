"""Stream tickets in the URL, kept out of every log: `?ticket=` is taken out of the request before
anything records it.

A browser's `EventSource` cannot send an `Authorization` header, so it passes a single-use ticket
in the query string (`POST /api/v1/stream-tickets`). The query string is what access logs (uvicorn's
`GET /path?query`) and traces (OpenTelemetry's `http.url` / `url.query`) record, so `hide_ticket`
runs first, on the ASGI scope that the server, the tracing and the app share: it moves the ticket to
a key of its own and leaves `ticket=REDACTED` in its place. Authentication reads it from there
(`authentication.py`), on the routes that accept tickets only (`TICKET_AUTH` in their `opt`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

# The scope key the ticket is moved to, and a route's opt that says it accepts tickets.
TICKET_SCOPE_KEY = "storeplane.stream_ticket"
TICKET_AUTH = "stream_ticket_auth"
TICKET_PARAMETER = "ticket"
REDACTED = "REDACTED"


def hide_ticket(scope: Any) -> None:
    """Move `?ticket=` from the scope's query string to `TICKET_SCOPE_KEY` (the first one, if several)."""
    if scope.get("type") != "http":
        return
    query: bytes = scope.get("query_string", b"")
    if b"ticket" not in query:
        return
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    tickets = [value for name, value in pairs if name == TICKET_PARAMETER]
    if not tickets:
        return
    scope[TICKET_SCOPE_KEY] = tickets[0]
    kept = [(name, REDACTED if name == TICKET_PARAMETER else value) for name, value in pairs]
    scope["query_string"] = urlencode(kept).encode("latin-1")


def ticket_of(scope: Any) -> str | None:
    """The ticket `hide_ticket` took from the request, if any."""
    ticket = scope.get(TICKET_SCOPE_KEY)
    return ticket if isinstance(ticket, str) and ticket else None
