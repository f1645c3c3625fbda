"""The HTTP session's own logic, over a scripted transport: one Idempotency-Key for every attempt of a
command (so a retried order is never two), tokens refreshed before they expire and saved at once.
The same behaviour against the real gateway is in tests/e2e/test_cli.py."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from storeplane_cli.client import Client
from storeplane_cli.config import Credentials, load_credentials, save_credentials
from storeplane_cli.errors import ApiError

API = "http://127.0.0.1:8080"


def scripted(answers: list[httpx.Response], seen: list[httpx.Request]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return httpx.Client(base_url=API, transport=httpx.MockTransport(handle))


def busy() -> httpx.Response:
    return httpx.Response(
        503, json={"error": {"code": "bus_unavailable", "message": "m"}}, headers={"Retry-After": "0"}
    )


def test_a_command_retried_after_a_503_sends_the_same_idempotency_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("storeplane_cli.client.time.sleep", lambda _: None)
    save_credentials(API, Credentials(token="t", kind="api_token"))
    seen: list[httpx.Request] = []
    client = Client(API, http=scripted([busy(), busy(), httpx.Response(202, json={"id": "s"})], seen))
    assert client.command("POST", "/api/v1/stores", json={"name": "n", "engine": "woocommerce"}).status_code == 202
    keys = {request.headers["Idempotency-Key"] for request in seen}
    assert len(seen) == 3 and len(keys) == 1
    # A new invocation is a new order: a new key.
    client.http = scripted([httpx.Response(202, json={"id": "s2"})], seen)
    client.command("POST", "/api/v1/stores", json={"name": "m", "engine": "woocommerce"})
    assert seen[-1].headers["Idempotency-Key"] not in keys


def test_a_refusal_is_not_retried() -> None:
    save_credentials(API, Credentials(token="t", kind="api_token"))
    seen: list[httpx.Request] = []
    refusal = httpx.Response(409, json={"error": {"code": "name_taken", "message": "taken"}})
    client = Client(API, http=scripted([refusal], seen))
    with pytest.raises(ApiError) as refused:
        client.command("POST", "/api/v1/stores", json={})
    assert refused.value.code == "name_taken" and len(seen) == 1


def session_body(token: str, refresh: str) -> dict[str, object]:
    return {
        "token": token,
        "token_type": "Bearer",
        "expires_in": 900,
        "refresh_token": refresh,
        "refresh_expires_in": 86400,
        "user": {"id": "u", "email": "a@example.com", "role": "user"},
    }


def test_an_expiring_session_is_refreshed_first_and_the_new_pair_saved() -> None:
    save_credentials(API, Credentials(token="old", kind="session", refresh_token="r1", expires_at=time.time() + 5))
    seen: list[httpx.Request] = []
    answers = [httpx.Response(200, json=session_body("new", "r2")), httpx.Response(200, json={"stores": []})]
    client = Client(API, http=scripted(answers, seen))
    assert client.get("/api/v1/stores") == {"stores": []}
    assert seen[0].url.path == "/api/v1/auth/refresh" and json.loads(seen[0].content) == {"refresh_token": "r1"}
    assert seen[1].headers["Authorization"] == "Bearer new"
    saved = load_credentials(API)
    assert saved is not None and (saved.token, saved.refresh_token) == ("new", "r2")
    assert saved.expires_at > time.time() + 800


def test_a_session_that_ended_is_forgotten_and_says_to_log_in() -> None:
    save_credentials(API, Credentials(token="old", kind="session", refresh_token="r1", expires_at=1.0))
    refused = httpx.Response(401, json={"error": {"code": "invalid_refresh_token", "message": "m"}})
    client = Client(API, http=scripted([refused], []))
    with pytest.raises(Exception, match="storeplane login"):
        client.get("/api/v1/stores")
    assert load_credentials(API) is None


def test_every_item_of_a_paged_list_is_read_by_following_next() -> None:
    save_credentials(API, Credentials(token="t", kind="api_token"))
    seen: list[httpx.Request] = []
    pages = [
        httpx.Response(200, json={"stores": [{"id": "a"}, {"id": "b"}], "next": "/api/v1/stores?all=true&cursor=c1"}),
        httpx.Response(200, json={"stores": [{"id": "c"}], "next": None}),
    ]
    client = Client(API, http=scripted(pages, seen))
    assert [s["id"] for s in client.every("/api/v1/stores", "stores", params={"all": "true"})] == ["a", "b", "c"]
    assert [str(request.url) for request in seen] == [
        f"{API}/api/v1/stores?limit=200&all=true",
        f"{API}/api/v1/stores?all=true&cursor=c1",  # `next` as given: its filters and limit
    ]
