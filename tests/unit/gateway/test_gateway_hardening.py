"""Hardened edges: security headers on every response, CORS closed unless configured, rate limits
with Retry-After, strictly typed bodies."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from storeplane_gateway.app import create_app
from storeplane_gateway.areas.webhooks.services import URL_PATTERN
from storeplane_gateway.http import bodies
from storeplane_gateway.http.bodies import NO_NUL
from storeplane_gateway.http.hardening import API_CSP, DOCS_CSP
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import STORES, assert_error, order_store, sign_up, sign_up_admin

JSON = {"Content-Type": "application/json"}
FIXED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


async def test_every_response_carries_the_security_headers(
    client: AsyncTestClient[Litestar], fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await sign_up(client)

    async def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(fakes.status, "list_stores", broken)
    responses = {
        "ok": await client.get("/health"),
        "created": await client.post(
            "/api/v1/auth/register", json={"email": "bob@example.com", "password": "correct horse"}
        ),
        "not found": await client.get("/api/v1/nothing"),
        "unauthenticated": await client.get(STORES),
        "invalid": await client.post(STORES, json={"name": 1}, headers=account.headers),
        "server error": await client.get(STORES, headers=account.headers),
    }
    for what, response in responses.items():
        for name, value in FIXED.items():
            assert response.headers.get(name) == value, (what, name)
        assert response.headers["content-security-policy"] == API_CSP, what
        assert "strict-transport-security" not in response.headers
    assert responses["created"].headers["cache-control"] == "no-store"  # it holds tokens


async def test_the_api_docs_may_load_swagger_ui(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/schema/swagger")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert csp == DOCS_CSP
    assert "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net" in csp
    assert "cdn.jsdelivr.net" in response.text  # where the page loads Swagger UI from
    assert response.headers["x-frame-options"] == "DENY"


async def test_hsts_when_configured(fakes: Fakes) -> None:
    app = create_app(GatewaySettings(hsts_seconds=31536000), adapters=fakes.factory())
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/health")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_cors_is_closed_by_default(client: AsyncTestClient[Litestar]) -> None:
    preflight = await client.options(
        STORES, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_opens_for_configured_origins_only(fakes: Fakes) -> None:
    app = create_app(GatewaySettings(cors_origins=("https://console.example",)), adapters=fakes.factory())
    async with AsyncTestClient(app=app) as client:
        allowed = await client.options(
            STORES,
            headers={
                "Origin": "https://console.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
            },
        )
        assert allowed.status_code in (200, 204)
        assert allowed.headers["access-control-allow-origin"] == "https://console.example"
        assert "access-control-allow-credentials" not in allowed.headers
        other = await client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        exposed = await client.get("/health", headers={"Origin": "https://console.example"})
        assert "X-Stream-Sequence" in exposed.headers["access-control-expose-headers"]
        assert "Idempotent-Replayed" in exposed.headers["access-control-expose-headers"]


async def test_logins_are_rate_limited_per_address_with_retry_after(fakes: Fakes) -> None:
    app = create_app(GatewaySettings(auth_requests_per_minute_per_address=3), adapters=fakes.factory())
    async with AsyncTestClient(app=app) as client:
        await sign_up(client)
        for _ in range(2):
            await client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse"})
        limited = await client.post(
            "/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse"}
        )
        message = assert_error(limited, 429, "too_many_requests")
        assert "3 requests per minute" in message
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["ratelimit-limit"] == "3"
        # The limit is per bucket: store routes are not counted with logins.
        assert (await client.get(STORES, headers={"Authorization": "Bearer x"})).status_code == 401
    assert [entry.action for entry in fakes.audit.entries][-1] == "login"
    assert fakes.audit.entries[-1].error_code == "too_many_requests"


async def test_a_full_password_hashing_queue_answers_503_with_retry_after(fakes: Fakes) -> None:
    settings = GatewaySettings(password_hashes_at_once=1, password_hash_queue=0, retry_after_seconds=4)
    app = create_app(settings, adapters=fakes.factory())
    async with (
        AsyncTestClient(app=app) as client,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)), base_url="http://gateway") as concurrent,
    ):  # the test client sends one request at a time; these overlap
        await sign_up(client)
        credentials = {"email": "ada@example.com", "password": "correct horse"}
        logins = [concurrent.post("/api/v1/auth/login", json=credentials) for _ in range(4)]
        answers = await asyncio.gather(*logins)
    busy = [answer for answer in answers if answer.status_code == 503]
    assert busy, [answer.status_code for answer in answers]
    assert "too many passwords" in assert_error(busy[0], 503, "busy")
    assert busy[0].headers["retry-after"] == "4"
    assert any(answer.status_code == 200 for answer in answers)


async def test_store_orders_are_rate_limited_per_user(fakes: Fakes) -> None:
    settings = GatewaySettings(store_creates_per_minute_per_user=2, max_stores_per_user=10)
    async with AsyncTestClient(app=create_app(settings, adapters=fakes.factory())) as client:
        ada = await sign_up(client)
        bob = await sign_up(client, "bob@example.com")
        assert (await order_store(client, ada, "shop-one")).status_code == 202
        assert (await order_store(client, ada, "shop-two")).status_code == 202
        limited = await order_store(client, ada, "shop-three")
        assert_error(limited, 429, "too_many_requests")
        assert "retry-after" in limited.headers
        assert (await order_store(client, bob, "shop-three")).status_code == 202  # Bob has his own count
        assert (await client.get(STORES, headers=ada.headers)).status_code == 200  # reads are not counted


async def test_store_orders_are_rate_limited_per_address(fakes: Fakes) -> None:
    settings = GatewaySettings(store_creates_per_minute_per_address=2, store_creates_per_minute_per_user=0)
    async with AsyncTestClient(app=create_app(settings, adapters=fakes.factory())) as client:
        ada = await sign_up(client)
        bob = await sign_up(client, "bob@example.com")
        assert (await order_store(client, ada, "shop-one")).status_code == 202
        assert (await order_store(client, bob, "shop-two")).status_code == 202
        assert_error(await order_store(client, bob, "shop-three"), 429, "too_many_requests")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "shop-one", "engine": "woocommerce", "owner_id": "someone-else"}, "unknown field `owner_id`"),
        ({"name": "shop-one", "engine": "woocommerce", "status": "ready"}, "unknown field `status`"),
        ({"name": "shop-one", "engine": ["woocommerce"]}, "body field `engine`: Expected `str`, got `array`"),
        ({"name": True, "engine": "woocommerce"}, "body field `name`: Expected `str`, got `bool`"),
    ],
)
async def test_mass_assignment_and_loose_types_are_refused(
    client: AsyncTestClient[Litestar], fakes: Fakes, body: dict[str, object], fragment: str
) -> None:
    ada = await sign_up(client)
    assert fragment in assert_error(await client.post(STORES, json=body, headers=ada.headers), 400, "invalid_body")
    assert fakes.bus.published == []


async def test_numbers_are_not_taken_from_strings(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    response = await client.put(f"/api/v1/admin/users/{root.id}/quota", json={"store_limit": "9"}, headers=root.headers)
    assert "Expected `int | null`, got `str`" in assert_error(response, 400, "invalid_body")


async def test_a_whole_number_with_a_fraction_is_an_integer_as_json_schema_says(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    root = await sign_up_admin(client, fakes.grant_admin)
    path = f"/api/v1/admin/users/{root.id}/quota"
    accepted = await client.put(path, content=b'{"store_limit": 7.0}', headers={**root.headers, **JSON})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["limit"] == 7
    refused = await client.put(path, content=b'{"store_limit": 7.5}', headers={**root.headers, **JSON})
    assert "got `float`" in assert_error(refused, 400, "invalid_body")


async def test_a_refused_name_says_why(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    message = assert_error(await order_store(client, ada, "Shop_Ünïcode"), 422, "invalid_name")
    assert "DNS-1123" in message and "shop-ünïcode" in message


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/auth/register", {"email": "a\x00da@example.com", "password": "correct horse"}, "email"),
        ("/api/v1/auth/login", {"email": "ada@example.com", "password": "correct\x00horse"}, "password"),
        ("/api/v1/tokens", {"name": "ci", "scopes": ["stores:read", "stores\x00"]}, "scopes[1]"),
    ],
)
async def test_nul_characters_are_refused_everywhere_in_bodies(
    client: AsyncTestClient[Litestar], path: str, body: dict[str, object], field: str
) -> None:
    """Postgres text cannot hold NUL: refused as invalid input, never a 500 from the database."""
    ada = await sign_up(client)
    response = await client.post(path, json=body, headers=ada.headers)
    assert f"body field `{field}`: must not contain the NUL character" in assert_error(response, 400, "invalid_body")


async def test_the_schema_is_as_strict_as_the_server(client: AsyncTestClient[Litestar]) -> None:
    """Clients generated from the schema send only what the server accepts: closed objects, bounds, enums."""
    document = (await client.get("/schema/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for name in ("Credentials", "CreateStoreBody", "CreateApiTokenBody", "SetQuotaBody"):
        assert schemas[name]["additionalProperties"] is False, name
    # The refresh route reads its body itself (a browser's comes without one): its schema is the route's own.
    refresh = document["paths"]["/api/v1/auth/refresh"]["post"]["requestBody"]["content"]["application/json"]
    assert refresh["schema"]["additionalProperties"] is False
    assert refresh["schema"]["required"] == ["refresh_token"]
    assert schemas["Credentials"]["properties"]["password"]["minLength"] == 8
    assert schemas["CreateStoreBody"]["properties"]["name"]["minLength"] == 3
    token = schemas["CreateApiTokenBody"]["properties"]
    assert token["name"]["minLength"] == 1 and token["name"]["maxLength"] == 64
    assert token["scopes"]["items"]["enum"] == [
        "stores:read",
        "stores:write",
        "stores:credentials",
        "webhooks:read",
        "webhooks:write",
    ]
    assert token["scopes"]["minItems"] == 1
    assert schemas["SetQuotaBody"]["properties"]["store_limit"]["maximum"] == 1000
    webhook = schemas["CreateWebhookBody"]
    assert webhook["additionalProperties"] is False
    assert webhook["properties"]["url"]["pattern"] == URL_PATTERN and "\\s" not in URL_PATTERN
    assert webhook["properties"]["events"]["minItems"] == 1
    assert "store.ready" in webhook["properties"]["events"]["items"]["enum"]
    assert webhook["properties"]["description"]["pattern"] == NO_NUL


async def test_a_route_is_not_judged_by_another_handler_that_had_its_id(client: AsyncTestClient[Litestar]) -> None:
    """The query names a route takes are remembered per handler. A handler of an earlier app (the
    tests make many) may have had this handler's id and left "takes none" under it: seen in CI as a
    400 for `limit` on the deliveries route, which takes it."""
    account = await sign_up(client)
    route = next(r for r in client.app.routes if r.path == "/api/v1/webhooks/{webhook_id:str}/deliveries")
    handler, _ = cast(HTTPRoute, route).route_handler_map["GET"]
    bodies._query_names[id(handler)] = frozenset()  # what a freed handler with the same id left behind
    answer = await client.get("/api/v1/webhooks/ep_1/deliveries?limit=5", headers=account.headers)
    assert answer.status_code != 400, answer.text


async def test_an_unknown_query_parameter_is_refused(client: AsyncTestClient[Litestar]) -> None:
    account = await sign_up(client)
    assert (await client.get(f"{STORES}?all=false", headers=account.headers)).status_code == 200
    message = assert_error(await client.get(f"{STORES}?colour=red", headers=account.headers), 400, "invalid_request")
    assert "`colour`" in message and "all" in message
