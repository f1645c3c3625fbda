"""The stream follower's own logic, over a scripted transport: a stream that drops is opened again
with `Last-Event-ID` (the last event it delivered), honouring `retry:`, so each event arrives once;
a store's stream ends after `StoreDeleted`; a refusal is an error at once. The real gateway's
streams are followed in tests/e2e/test_cli.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from storeplane_cli.client import Client
from storeplane_cli.config import Credentials, save_credentials
from storeplane_cli.errors import ApiError
from storeplane_cli.stream import Follower

API = "http://127.0.0.1:8080"
PATH = "/api/v1/stores/s1/events/stream"


def message(sequence: int, kind: str) -> bytes:
    entry = {
        "event_id": f"e{sequence}",
        "type": kind,
        "occurred_at": "2026-01-01T00:00:00Z",
        "sequence": sequence,
        "data": {},
        "store_id": "s1",
    }
    return f"id: {sequence}\nevent: {kind}\ndata: {json.dumps(entry)}\n\n".encode()


class Dropping(httpx.SyncByteStream):
    """Sends `chunks`, then loses the connection."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        raise httpx.ReadError("connection lost")


def follower(answers: list[httpx.Response], seen: list[httpx.Request]) -> Follower:
    save_credentials(API, Credentials(token="t", kind="api_token"))

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    client = Client(API, http=httpx.Client(base_url=API, transport=httpx.MockTransport(handle)))
    return Follower(client, PATH)


SSE = {"content-type": "text/event-stream"}


def test_a_dropped_stream_resumes_after_the_last_event_and_ends_after_store_deleted() -> None:
    seen: list[httpx.Request] = []
    first = httpx.Response(
        200,
        headers=SSE,
        stream=Dropping([b"retry: 0\n\n", message(1, "StoreRequested"), message(2, "ProvisioningStarted")]),
    )
    second = httpx.Response(200, headers=SSE, content=message(3, "StoreReady") + b": closing shutdown\n\n")
    third = httpx.Response(200, headers=SSE, content=message(4, "StoreDeletionRequested") + message(5, "StoreDeleted"))
    events = list(follower([first, second, third], seen).events())
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert [r.headers.get("Last-Event-ID") for r in seen] == [None, "2", "3"]
    assert all(r.headers["Authorization"] == "Bearer t" for r in seen)


def test_a_refusal_is_an_error_with_the_api_code() -> None:
    refusal = httpx.Response(404, json={"error": {"code": "store_not_found", "message": "no such store"}})
    with pytest.raises(ApiError) as refused:
        list(follower([refusal], []).events())
    assert refused.value.code == "store_not_found"
