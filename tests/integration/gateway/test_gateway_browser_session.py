"""A browser's session (`X-Storeplane-Session: cookie`) on the real Postgres and NATS: the refresh token
lives in an HttpOnly cookie that only the refresh route reads, never in a body, and dies with the session.

The cookies are read from `Set-Cookie` and sent back by hand: the test client's cookie jar keeps a
`Secure` cookie away from its plain-HTTP test server (a browser on loopback does not; tests/browser/)."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.helpers import assert_error, sign_up

pytestmark = pytest.mark.integration

BROWSER = {"X-Storeplane-Session": "cookie"}
CREDENTIALS = {"email": "ada@example.com", "password": "correct horse"}
REFRESH = "/api/v1/auth/refresh"


def set_cookie(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The one `storeplane_refresh` cookie the answer sets: its value and its attributes (lower-cased names)."""
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    cookie = SimpleCookie()
    cookie.load(headers[0])
    morsel = cookie["storeplane_refresh"]
    parts = [part.strip() for part in headers[0].split(";")[1:]]
    attributes = {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts}
    return morsel.value, attributes


def assert_session_cookie(response: httpx.Response, settings: GatewaySettings) -> str:
    """The answer sets the refresh cookie as the dashboard's contract says, and has no refresh token in its body."""
    body = response.json()
    assert "refresh_token" not in body
    assert body["token"] and body["refresh_expires_in"] == settings.refresh_token_ttl_seconds
    value, attributes = set_cookie(response)
    assert value.count(".") == 2  # a JWT
    assert value not in response.text
    assert attributes == {
        "httponly": "",
        "secure": "",
        "samesite": attributes["samesite"],
        "path": REFRESH,
        "max-age": str(settings.refresh_token_ttl_seconds),
    }
    assert attributes["samesite"].lower() == "strict"
    return value


def assert_cleared(response: httpx.Response) -> None:
    value, attributes = set_cookie(response)
    assert value == ""
    assert attributes["max-age"] == "0"
    assert attributes["path"] == REFRESH


async def test_register_and_login_set_the_refresh_cookie_and_keep_it_out_of_the_body(
    gateway: AsyncTestClient[Litestar], gateway_settings: GatewaySettings
) -> None:
    registered = await gateway.post("/api/v1/auth/register", json=CREDENTIALS, headers=BROWSER)
    assert registered.status_code == 201, registered.text
    assert_session_cookie(registered, gateway_settings)
    logged_in = await gateway.post("/api/v1/auth/login", json=CREDENTIALS, headers=BROWSER)
    assert logged_in.status_code == 200, logged_in.text
    assert_session_cookie(logged_in, gateway_settings)
    me = await gateway.get("/api/v1/account", headers={"Authorization": f"Bearer {logged_in.json()['token']}"})
    assert me.status_code == 200 and me.json()["user"]["email"] == CREDENTIALS["email"]


async def test_refresh_by_cookie_rotates_it_and_the_old_one_fails(
    gateway: AsyncTestClient[Litestar], gateway_settings: GatewaySettings
) -> None:
    registered = await gateway.post("/api/v1/auth/register", json=CREDENTIALS, headers=BROWSER)
    first = assert_session_cookie(registered, gateway_settings)
    # No body at all, as the dashboard sends it.
    renewed = await gateway.post(REFRESH, headers={**BROWSER, "Cookie": f"storeplane_refresh={first}"})
    assert renewed.status_code == 200, renewed.text
    second = assert_session_cookie(renewed, gateway_settings)
    assert second != first
    assert renewed.json()["user"]["email"] == CREDENTIALS["email"]
    # `{}` works too, and the new cookie's session goes on.
    again = await gateway.post(REFRESH, json={}, headers={**BROWSER, "Cookie": f"storeplane_refresh={second}"})
    assert again.status_code == 200, again.text
    third = assert_session_cookie(again, gateway_settings)
    # The first cookie again: used already, refused (and its session ended, as for a copied refresh token).
    replayed = await gateway.post(REFRESH, headers={**BROWSER, "Cookie": f"storeplane_refresh={first}"})
    assert_error(replayed, 401, "invalid_refresh_token")
    assert_cleared(replayed)
    ended = await gateway.post(REFRESH, headers={**BROWSER, "Cookie": f"storeplane_refresh={third}"})
    assert_error(ended, 401, "invalid_refresh_token")


async def test_a_missing_or_invalid_cookie_is_a_401_that_clears_it(gateway: AsyncTestClient[Litestar]) -> None:
    missing = await gateway.post(REFRESH, headers=BROWSER)
    assert_error(missing, 401, "invalid_refresh_token")
    assert_cleared(missing)
    invalid = await gateway.post(REFRESH, headers={**BROWSER, "Cookie": "storeplane_refresh=not-a-token"})
    assert_error(invalid, 401, "invalid_refresh_token")
    assert_cleared(invalid)


async def test_without_the_header_the_cookie_is_ignored_and_the_json_flow_is_unchanged(
    gateway: AsyncTestClient[Litestar], gateway_settings: GatewaySettings
) -> None:
    browser = await gateway.post("/api/v1/auth/register", json=CREDENTIALS, headers=BROWSER)
    cookie = {"Cookie": f"storeplane_refresh={assert_session_cookie(browser, gateway_settings)}"}
    # The cookie alone refreshes nothing: the JSON flow wants its body.
    no_body = await gateway.post(REFRESH, headers=cookie)
    assert_error(no_body, 400, "invalid_body")
    # The CLI's flow: the refresh token in the body and in the answer; no cookie set.
    cli = await sign_up(gateway, "grace@example.com")
    renewed = await gateway.post(REFRESH, json={"refresh_token": cli.refresh_token}, headers=cookie)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["refresh_token"] and renewed.json()["user"]["email"] == "grace@example.com"
    assert "set-cookie" not in renewed.headers
    # The browser's cookie was not spent by that request: it still refreshes its own session.
    still = await gateway.post(REFRESH, headers={**BROWSER, **cookie})
    assert still.status_code == 200, still.text
    assert still.json()["user"]["email"] == CREDENTIALS["email"]


async def test_cookie_mode_takes_a_refresh_token_in_the_body_and_sets_the_next_as_the_cookie(
    gateway: AsyncTestClient[Litestar], gateway_settings: GatewaySettings
) -> None:
    """A client that holds its refresh token (a CLI session moving into a browser) may send it with the header."""
    cli = await sign_up(gateway)
    moved = await gateway.post(REFRESH, json={"refresh_token": cli.refresh_token}, headers=BROWSER)
    assert moved.status_code == 200, moved.text
    assert_session_cookie(moved, gateway_settings)
    refused = await gateway.post(REFRESH, json={"refresh_token": "not-a-token"}, headers=BROWSER)
    assert_error(refused, 401, "invalid_refresh_token")
    assert "set-cookie" not in refused.headers  # the cookie (not the body's token) was not the one refused
    malformed = await gateway.post(REFRESH, json={"refresh_token": 7}, headers=BROWSER)
    assert_error(malformed, 400, "invalid_body")


async def test_a_session_mode_other_than_cookie_is_refused(gateway: AsyncTestClient[Litestar]) -> None:
    wrong_mode = await gateway.post("/api/v1/auth/login", json=CREDENTIALS, headers={"X-Storeplane-Session": "jar"})
    assert_error(wrong_mode, 400, "invalid_request")
    assert "X-Storeplane-Session" in wrong_mode.json()["error"]["message"]


@pytest.mark.parametrize("route", ["/api/v1/auth/logout", "/api/v1/auth/logout-all"])
async def test_logout_clears_the_cookie_and_ends_its_session(
    gateway: AsyncTestClient[Litestar], gateway_settings: GatewaySettings, route: str
) -> None:
    registered = await gateway.post("/api/v1/auth/register", json=CREDENTIALS, headers=BROWSER)
    cookie = assert_session_cookie(registered, gateway_settings)
    out = await gateway.post(route, headers={"Authorization": f"Bearer {registered.json()['token']}"})
    assert out.status_code == 204, out.text
    assert_cleared(out)
    after = await gateway.post(REFRESH, headers={**BROWSER, "Cookie": f"storeplane_refresh={cookie}"})
    assert_error(after, 401, "invalid_refresh_token")


async def test_no_cors_grant_lets_another_origin_send_the_session_header(gateway: AsyncTestClient[Litestar]) -> None:
    """A cross-origin fetch with the custom header needs a preflight; the gateway (no CORS origins by default)
    grants none, and answers carry no Access-Control-* header at all."""
    preflight = await gateway.options(
        REFRESH,
        headers={
            "Origin": "http://127.0.0.2:8000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-storeplane-session",
        },
    )
    assert not [name for name in preflight.headers if name.lower().startswith("access-control-")]
    answer = await gateway.post(REFRESH, headers={**BROWSER, "Origin": "http://127.0.0.2:8000"})
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
