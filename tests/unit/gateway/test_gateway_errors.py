"""Every failure, Litestar's own included, answers with the one error shape and a 4xx (or 503)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_gateway.http.authentication import TOKEN_ISSUER
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import Account, assert_error, sign_up

STORES = "/api/v1/stores"


async def test_unknown_route_is_a_404_in_the_error_shape(client: AsyncTestClient[Litestar]) -> None:
    message = assert_error(await client.get("/api/v1/nothing-here"), 404, "not_found")
    assert "/schema" in message


async def test_wrong_method_is_a_405_with_allow(client: AsyncTestClient[Litestar]) -> None:
    response = await client.put("/api/v1/auth/login", json={})
    message = assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]
    assert "POST" in message


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "JSON object body is required"),
        (b"[]", "Expected `object`, got `array`"),
        (b'{"name": "shop-one"}', "missing required field `engine`"),
        (b'{"name": 42, "engine": "woocommerce"}', "Expected `str`, got `int`"),
        (b'{"name": "shop-one", "engine": "woocommerce", "size": "xl"}', "unknown field `size`"),
        (b'{"name": null, "engine": "woocommerce"}', "Expected `str`, got `null`"),
    ],
)
async def test_malformed_store_bodies_are_400_invalid_body(
    client: AsyncTestClient[Litestar], content: bytes, fragment: str
) -> None:
    account = await sign_up(client)
    response = await client.post(
        STORES, content=content, headers={**account.headers, "Content-Type": "application/json"}
    )
    assert fragment in assert_error(response, 400, "invalid_body")


async def test_malformed_credentials_are_400_invalid_body(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/api/v1/auth/register", json={"email": "a@b.io", "password": 12345678})
    assert "password" in assert_error(response, 400, "invalid_body")


async def test_a_body_too_large_is_413_and_says_the_limit(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"email": "' + b"a" * 100_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert "65536 bytes" in assert_error(response, 413, "body_too_large")


# Every route with a JSON body, and its first field (bodies are decoded field by field).
JSON_ROUTES = {
    "/api/v1/auth/register": b"password",
    "/api/v1/auth/login": b"password",
    "/api/v1/auth/refresh": b"refresh_token",
    STORES: b"name",
    "/api/v1/tokens": b"name",
}
MALFORMED = [
    (b'{"%s": "correct horse\xff"}', "not valid UTF-8"),  # a password ending in byte 0xff
    (b'{"%s": "correct \xc3\x28horse"}', "not valid UTF-8"),
    (b'{"%s": "correct hor', "not valid JSON (Input data was truncated)"),
]


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize(("template", "fragment"), MALFORMED)
async def test_every_malformed_body_is_400_invalid_body(
    client: AsyncTestClient[Litestar], path: str, template: bytes, fragment: str
) -> None:
    account = await sign_up(client, "malformed@example.com")
    content = template % JSON_ROUTES[path]
    response = await client.post(path, content=content, headers={**account.headers, "Content-Type": "application/json"})
    message = assert_error(response, 400, "invalid_body")
    assert fragment in message
    assert "correct" not in message


@pytest.mark.parametrize("path", JSON_ROUTES)
async def test_a_json_route_refuses_another_content_type_with_415(client: AsyncTestClient[Litestar], path: str) -> None:
    account = await sign_up(client, "plain@example.com")
    body = b'{"email": "ada@example.com", "password": "correct horse"}'
    response = await client.post(path, content=body, headers={**account.headers, "Content-Type": "text/plain"})
    assert "application/json" in assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        (STORES, "GET, OPTIONS, POST"),
        (f"{STORES}/some-id", "DELETE, GET, OPTIONS"),
        ("/api/v1/tokens", "GET, OPTIONS, POST"),
        ("/api/v1/auth/login", "OPTIONS, POST"),
    ],
)
async def test_options_lists_every_method_of_the_path(
    client: AsyncTestClient[Litestar], path: str, methods: str
) -> None:
    response = await client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == methods


async def test_a_bad_min_sequence_header_names_the_header(client: AsyncTestClient[Litestar]) -> None:
    account = await sign_up(client)
    response = await client.get(
        f"{STORES}/0b7e8c3e-5bd1-4a3b-9d5e-7a8e8f0e1a11", headers={**account.headers, "X-Min-Sequence": "soon"}
    )
    assert "X-Min-Sequence" in assert_error(response, 400, "invalid_request")


async def test_no_token_is_401_with_a_hint(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get(STORES)
    message = assert_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "/api/v1/auth/login" in message


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-jwt", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b.c"],
)
async def test_a_bad_token_is_401(client: AsyncTestClient[Litestar], header: str) -> None:
    assert_error(await client.get(STORES, headers={"Authorization": header}), 401, "not_authenticated")


def _token(secret: str, account: Account, *, expires_in: timedelta, **changes: str) -> str:
    """An access token like the gateway's for `account`'s session, with `changes` to its extras."""
    session = jwt.decode(account.token, options={"verify_signature": False})["extras"]["sid"]
    now = datetime.now(UTC)
    claims = {
        "sub": account.id,
        "iat": int((now - timedelta(hours=2)).timestamp()),
        "exp": int((now + expires_in).timestamp()),
        "iss": TOKEN_ISSUER,
        "jti": "a-token-id",
        "extras": {"typ": "access", "email": account.email, "role": "user", "sid": session, **changes},
    }
    return jwt.encode(claims, secret, algorithm="HS256")


async def test_expired_foreign_malformed_or_refresh_tokens_are_401(
    client: AsyncTestClient[Litestar], settings: GatewaySettings
) -> None:
    account = await sign_up(client)
    hour = timedelta(hours=1)
    refused = [
        _token(settings.jwt_secret, account, expires_in=-timedelta(minutes=1)),
        _token("someone-else-s-secret-that-is-long-enough!", account, expires_in=hour),
        _token(settings.jwt_secret, account, expires_in=hour, email=""),
        _token(settings.jwt_secret, account, expires_in=hour, role="root"),
        _token(settings.jwt_secret, account, expires_in=hour, typ="refresh"),
        _token(settings.jwt_secret, account, expires_in=hour, sid="5d1c7c55-0d8e-4d0a-8a53-3c8a3f3e8b6e"),
        account.refresh_token,
    ]
    for token in refused:
        response = await client.get(STORES, headers={"Authorization": f"Bearer {token}"})
        assert "invalid or expired" in assert_error(response, 401, "not_authenticated")
    valid = _token(settings.jwt_secret, account, expires_in=hour)
    assert (await client.get(STORES, headers={"Authorization": f"Bearer {valid}"})).status_code == 200


async def test_an_unexpected_failure_is_a_500_without_details(
    client: AsyncTestClient[Litestar], fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await sign_up(client)

    async def broken(owner_id: str) -> list[object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(fakes.status, "list_stores", broken)
    response = await client.get(STORES, headers=account.headers)
    message = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text and "Traceback" not in response.text
    assert message == "the gateway failed; try again later"
