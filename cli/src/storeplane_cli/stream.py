"""Following the gateway's server-sent event streams, resuming where the last event left off.

`GET /api/v1/stores/{id}/events/stream` and `GET /api/v1/events/stream` send each timeline event as
`id:` (its stream sequence), `event:` (its type) and `data:` (the timeline entry plus `store_id`).
A stream that drops (a gateway restarting, the idle cap, a lost connection) is opened again with
`Last-Event-ID`, after the server's `retry:` delay, so every event arrives once and in order. A
store's stream ends after `StoreDeleted`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from httpx_sse import SSEError, connect_sse

from storeplane_cli.client import Client
from storeplane_cli.errors import ApiError, CliError

STREAM_TIMEOUT = httpx.Timeout(30.0, read=60.0)  # the server sends a keep-alive comment every 15 s
# Give up when the gateway cannot be reached (or keeps refusing with 503/429) for this long in a row.
GIVE_UP_SECONDS = 120.0
_TRANSIENT = frozenset({429, 502, 503, 504})


class _Reconnect(Exception):
    """The access token was refreshed: open the stream again at once."""


@dataclass(frozen=True)
class StreamEvent:
    """One event of a store's timeline, as the stream sent it."""

    sequence: int
    type: str
    store_id: str
    occurred_at: datetime
    data: dict[str, Any]
    raw: str  # the `data:` line, unchanged (for `-o json`)

    @classmethod
    def parse(cls, sequence: str, raw: str) -> StreamEvent:
        entry = json.loads(raw)
        return cls(
            sequence=int(sequence),
            type=str(entry["type"]),
            store_id=str(entry.get("store_id", "")),
            occurred_at=datetime.fromisoformat(str(entry["occurred_at"]).replace("Z", "+00:00")),
            data=dict(entry.get("data") or {}),
            raw=raw,
        )


class Follower:
    """Reads one stream path, reconnecting after drops until the caller stops or the stream ends."""

    def __init__(self, client: Client, path: str, *, after: int | None = None, params: dict[str, str] | None = None):
        self.client = client
        self.path = path
        self.last_id = after
        self.params = params or {}
        self.retry_seconds = 3.0
        self.ended = False

    def events(self) -> Iterator[StreamEvent]:
        failing_since: float | None = None
        while not self.ended:
            try:
                for event in self._once():
                    failing_since = None
                    yield event
            except _Reconnect:
                continue
            except (httpx.TransportError, SSEError) as error:
                failing_since = self._note_failure(failing_since, str(error) or type(error).__name__)
            except ApiError as error:
                if error.status not in _TRANSIENT:
                    raise
                failing_since = self._note_failure(failing_since, error.message)
                time.sleep(max(error.retry_after or 0.0, 0.0))
            if not self.ended:
                time.sleep(self.retry_seconds)

    def _note_failure(self, since: float | None, why: str) -> float:
        now = time.monotonic()
        if since is not None and now - since > GIVE_UP_SECONDS:
            raise CliError(f"Lost the event stream at {self.client.api} and could not resume: {why}")
        return since if since is not None else now

    def _headers(self) -> dict[str, str]:
        headers = self.client.auth_headers()
        if self.last_id is not None:
            headers["Last-Event-ID"] = str(self.last_id)
        return headers

    def _once(self) -> Iterator[StreamEvent]:
        http = self.client.http
        with connect_sse(
            http, "GET", self.path, headers=self._headers(), params=self.params, timeout=STREAM_TIMEOUT
        ) as source:
            response = source.response
            if response.status_code == httpx.codes.UNAUTHORIZED and self.client.credentials:
                response.read()
                self.client.refresh()
                raise _Reconnect
            if response.is_error:
                response.read()
                raise ApiError.of(response)
            for sse in source.iter_sse():
                if sse.retry is not None:
                    self.retry_seconds = sse.retry / 1000
                if not sse.data or not sse.id:
                    continue
                event = StreamEvent.parse(sse.id, sse.data)
                self.last_id = event.sequence
                yield event
                if event.type == "StoreDeleted" and "/stores/" in self.path:
                    self.ended = True
                    return
