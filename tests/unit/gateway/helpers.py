"""Small helpers the gateway's unit and integration tests share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx
from litestar import Litestar

# The account the tests make an admin (`sign_up_admin`).
ADMIN_EMAIL = "root@example.com"
STORES = "/api/v1/stores"


@dataclass(frozen=True)
class Account:
    """A registered user, their session's tokens, and the headers that authenticate as them."""

    id: str
    email: str
    token: str
    refresh_token: str = ""
    role: str = "user"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def account_of(session: dict[str, Any]) -> Account:
    """The account a register or login answer describes."""
    return Account(
        id=session["user"]["id"],
        email=session["user"]["email"],
        token=session["token"],
        refresh_token=session["refresh_token"],
        role=session["user"]["role"],
    )


async def sign_up(client: Any, email: str = "ada@example.com", password: str = "correct horse") -> Account:
    """Register through the API (`client` is an httpx or Litestar test client)."""
    response = await client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return account_of(response.json())


async def log_in(client: Any, email: str = "ada@example.com", password: str = "correct horse") -> Account:
    """A new session for a registered user."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return account_of(response.json())


async def sign_up_admin(
    client: Any, grant: Callable[[str], Awaitable[object]], email: str = ADMIN_EMAIL, password: str = "correct horse"
) -> Account:
    """Register, have the operator grant the admin role (`grant(email)`, as `storeplane-gateway admin grant`
    does), and log in again: registering alone never makes an admin."""
    registered = await sign_up(client, email, password)
    assert registered.role == "user"
    await grant(email)
    admin = await log_in(client, email, password)
    assert admin.role == "admin"
    return admin


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """The response has `status` and exactly the error shape with `code`; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    message: str = body["error"]["message"]
    assert message
    return message


async def order_store(client: Any, account: Account, name: str, engine: str = "woocommerce") -> httpx.Response:
    """POST /api/v1/stores as `account`."""
    response: httpx.Response = await client.post(STORES, json={"name": name, "engine": engine}, headers=account.headers)
    return response


def asgi_transport(app: Litestar) -> httpx.ASGITransport:
    """httpx's transport into the app in-process, for requests that overlap on the test's event loop
    (Litestar's test client answers one at a time). httpx types an ASGI app's scope and messages as plain
    mappings, Litestar as typed dicts, so the app is cast to the callable httpx asks for."""
    return httpx.ASGITransport(app=cast(Callable[..., Awaitable[None]], app))
