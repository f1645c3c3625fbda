"""No secret ever reaches a log line: every secret-bearing route is driven against the whole platform
(the services as processes, their output captured in `<servers_dir>/e2e/logs/*.log`), with good and with
malformed bodies, and then every service's log is searched for each secret the routes used or gave out.

A route joins the list by adding a function to `SECRET_ROUTES` that drives it and records in `Secrets`
every secret it sent or received (webhook secrets and stream tickets join this way).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_store_lifecycle import wait_for_store

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
PLAIN = {"Content-Type": "text/plain"}


@dataclass
class Secrets:
    """The secrets the routes used so far, and the caller they set up."""

    values: list[str] = field(default_factory=list)
    email: str = ""
    password: str = ""
    auth: dict[str, str] = field(default_factory=dict)
    refresh_token: str = ""

    def add(self, *secrets: str) -> None:
        self.values.extend(secret for secret in secrets if secret)

    def session(self, answer: httpx.Response) -> None:
        """Keep a register, login or refresh answer's tokens (as secrets, and as the caller's)."""
        assert answer.status_code in (200, 201), answer.text
        body = answer.json()
        self.add(body["token"], body["refresh_token"])
        self.auth = {"Authorization": f"Bearer {body['token']}"}
        self.refresh_token = body["refresh_token"]


Route = Callable[[httpx.AsyncClient, Secrets], Awaitable[None]]


async def register_and_log_in(http: httpx.AsyncClient, secrets: Secrets) -> None:
    secrets.email, secrets.password = f"secrets-{uuid.uuid4().hex[:8]}@example.com", f"pw-{uuid.uuid4().hex}"
    secrets.add(secrets.password)
    credentials = {"email": secrets.email, "password": secrets.password}
    secrets.session(await http.post("/api/v1/auth/register", json=credentials))
    secrets.session(await http.post("/api/v1/auth/login", json=credentials))
    wrong = f"wrong-{uuid.uuid4().hex}"
    secrets.add(wrong)
    refused = await http.post("/api/v1/auth/login", json={"email": secrets.email, "password": wrong})
    assert refused.status_code == 401, refused.text


async def refresh(http: httpx.AsyncClient, secrets: Secrets) -> None:
    spent = secrets.refresh_token
    secrets.session(await http.post("/api/v1/auth/refresh", json={"refresh_token": spent}))
    replayed = await http.post("/api/v1/auth/refresh", json={"refresh_token": spent})  # spent: ends the session
    assert replayed.status_code == 401, replayed.text
    credentials = {"email": secrets.email, "password": secrets.password}
    secrets.session(await http.post("/api/v1/auth/login", json=credentials))


async def malformed_bodies(http: httpx.AsyncClient, secrets: Secrets) -> None:
    """Bodies that broke the gateway once (a 500 whose traceback showed the frame's locals)."""
    password = f"pw-{uuid.uuid4().hex}"
    secrets.add(password)
    email = f"bad-{uuid.uuid4().hex[:8]}@example.com"
    bodies = [
        ("/api/v1/auth/register", f'{{"email": "{email}", "password": "{password}'.encode() + b'\xff"}', JSON, 400),
        ("/api/v1/auth/login", f'{{"email": "{secrets.email}", "password": "{secrets.password}'.encode(), JSON, 400),
        ("/api/v1/auth/refresh", f'{{"refresh_token": "{secrets.refresh_token}'.encode() + b'\xc3\x28"}', JSON, 400),
        ("/api/v1/auth/login", f'{{"email": "{email}", "password": "{password}"}}'.encode(), PLAIN, 415),
    ]
    for path, content, headers, status in bodies:
        answer = await http.post(path, content=content, headers={**secrets.auth, **headers})
        assert answer.status_code == status, (path, answer.text)
    for path in ("/api/v1/stores", "/api/v1/tokens"):
        answer = await http.post(path, content=b'{"name": "x\xff"}', headers={**secrets.auth, **JSON})
        assert answer.status_code == 400, (path, answer.text)


async def api_tokens(http: httpx.AsyncClient, secrets: Secrets) -> None:
    made = await http.post("/api/v1/tokens", json={"name": "logs", "scopes": ["stores:read"]}, headers=secrets.auth)
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    secrets.add(token)
    used = await http.get("/api/v1/stores", headers={"Authorization": f"Bearer {token}"})
    assert used.status_code == 200, used.text


async def store_credentials(http: httpx.AsyncClient, secrets: Secrets) -> None:
    ordered = await http.post(
        "/api/v1/stores", json={"name": f"logs-{uuid.uuid4().hex[:6]}", "engine": "woocommerce"}, headers=secrets.auth
    )
    assert ordered.status_code == 202, ordered.text
    location = ordered.headers["location"]
    ready = await wait_for_store(http, location, secrets.auth, lambda s: s.get("status") in ("ready", "failed"))
    assert ready["status"] == "ready", ready.get("error")
    revealed = await http.get(f"{location}/credentials", headers=secrets.auth)
    assert revealed.status_code == 200, revealed.text
    secrets.add(revealed.json()["password"])
    assert (await http.delete(location, headers=secrets.auth)).status_code == 202


async def webhook_secrets(http: httpx.AsyncClient, secrets: Secrets) -> None:
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["*"], "description": "logs"}
    made = await http.post("/api/v1/webhooks", json=hook, headers=secrets.auth)
    assert made.status_code == 201, made.text
    rotated = await http.post(f"/api/v1/webhooks/{made.json()['id']}/rotate-secret", headers=secrets.auth)
    assert rotated.status_code == 200, rotated.text
    secrets.add(made.json()["secret"], rotated.json()["secret"])


async def stream_tickets(http: httpx.AsyncClient, secrets: Secrets) -> None:
    issued = await http.post("/api/v1/stream-tickets", headers=secrets.auth)
    assert issued.status_code == 201, issued.text
    ticket = issued.json()["ticket"]
    secrets.add(ticket)
    async with http.stream("GET", "/api/v1/events/stream", params={"ticket": ticket}) as opened:
        assert opened.status_code == 200
    reused = await http.get("/api/v1/events/stream", params={"ticket": ticket})
    assert reused.status_code == 401, reused.text


# Each route that takes or gives a secret; in order (later ones use the session the first set up).
SECRET_ROUTES: list[Route] = [
    register_and_log_in,
    refresh,
    malformed_bodies,
    api_tokens,
    store_credentials,
    webhook_secrets,
    stream_tickets,
]


def _fragments(secret: str) -> list[str]:
    """The secret, and for a long one its tail too (a token cut short in a log line is still a leak)."""
    return [secret, secret[-16:]] if len(secret) >= 32 else [secret]


async def test_no_secret_used_on_any_route_reaches_any_service_log(http: httpx.AsyncClient, servers_dir: Path) -> None:
    secrets = Secrets()
    for route in SECRET_ROUTES:
        await route(http, secrets)
    await asyncio.sleep(1)  # the services write their last lines
    logs = sorted((servers_dir / "e2e" / "logs").glob("*.log"))  # where tests/e2e/conftest.py keeps them
    assert {log.stem for log in logs} >= {"gateway", "provisioner", "status", "notifier"}
    assert all(log.stat().st_size for log in logs)  # they do log: the search below has something to search
    leaks = [
        f"{log.name} holds a secret ({fragment[:6]}...)"
        for log in logs
        for fragment in (f for secret in secrets.values for f in _fragments(secret))
        if fragment in log.read_text(errors="replace")
    ]
    assert not leaks, leaks
    assert len(secrets.values) >= 10
