"""Register and log in: validation, hashing, tokens, and refusals that reveal nothing."""

from __future__ import annotations

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_gateway.http.authentication import TOKEN_ISSUER
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import assert_error, sign_up

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"


async def test_register_returns_a_token_for_the_new_user(
    client: AsyncTestClient[Litestar], fakes: Fakes, settings: GatewaySettings
) -> None:
    response = await client.post(REGISTER, json={"email": "  Ada@Example.COM ", "password": "correct horse"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"token", "token_type", "expires_in", "refresh_token", "refresh_expires_in", "user"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.token_ttl_seconds
    assert body["refresh_expires_in"] == settings.refresh_token_ttl_seconds
    assert body["user"]["email"] == "ada@example.com" and body["user"]["role"] == "user"
    claims = jwt.decode(body["token"], settings.jwt_secret, algorithms=["HS256"], issuer=TOKEN_ISSUER)
    assert claims["sub"] == body["user"]["id"]
    assert claims["extras"] == {
        "typ": "access",
        "email": "ada@example.com",
        "role": "user",
        "sid": claims["extras"]["sid"],
    }
    assert claims["exp"] - claims["iat"] == settings.token_ttl_seconds
    assert claims["jti"]
    refresh = jwt.decode(body["refresh_token"], settings.jwt_secret, algorithms=["HS256"], issuer=TOKEN_ISSUER)
    assert refresh["extras"] == {"typ": "refresh", "sid": claims["extras"]["sid"]}
    assert refresh["exp"] - refresh["iat"] == settings.refresh_token_ttl_seconds
    assert await fakes.sessions.active_role(claims["extras"]["sid"], body["user"]["id"]) == "user"
    stored = fakes.users.accounts[body["user"]["id"]]
    assert stored.password_hash.startswith("$argon2id$")
    assert "correct horse" not in stored.password_hash


async def test_the_token_lifetime_follows_the_setting(fakes: Fakes) -> None:
    from storeplane_gateway.app import create_app

    app = create_app(GatewaySettings(token_ttl_seconds=60), adapters=fakes.factory())
    async with AsyncTestClient(app=app) as client:
        response = await client.post(REGISTER, json={"email": "ada@example.com", "password": "correct horse"})
    assert response.json()["expires_in"] == 60


@pytest.mark.parametrize(
    "email", ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "a@b@c.io", "a\x07da@example.com"]
)
async def test_register_refuses_malformed_emails(client: AsyncTestClient[Litestar], email: str) -> None:
    response = await client.post(REGISTER, json={"email": email, "password": "correct horse"})
    assert "name@example.com" in assert_error(response, 422, "invalid_email")


async def test_register_refuses_short_passwords(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    response = await client.post(REGISTER, json={"email": "ada@example.com", "password": "1234567"})
    assert "at least 8 characters" in assert_error(response, 422, "weak_password")
    assert fakes.users.accounts == {}


async def test_register_twice_is_a_409(client: AsyncTestClient[Litestar]) -> None:
    await sign_up(client, "ada@example.com")
    response = await client.post(REGISTER, json={"email": "ADA@example.com", "password": "another one"})
    assert "log in" in assert_error(response, 409, "email_taken")


async def test_login_returns_a_token_for_the_same_user(client: AsyncTestClient[Litestar]) -> None:
    account = await sign_up(client, "ada@example.com", "correct horse")
    response = await client.post(LOGIN, json={"email": "Ada@example.com", "password": "correct horse"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == {"id": account.id, "email": "ada@example.com", "role": "user"}
    assert body["token_type"] == "Bearer"
    stores = await client.get("/api/v1/stores", headers={"Authorization": f"Bearer {body['token']}"})
    assert stores.status_code == 200


async def test_wrong_password_and_unknown_email_get_the_same_401(client: AsyncTestClient[Litestar]) -> None:
    await sign_up(client, "ada@example.com", "correct horse")
    wrong_password = await client.post(LOGIN, json={"email": "ada@example.com", "password": "battery staple"})
    unknown_email = await client.post(LOGIN, json={"email": "bob@example.com", "password": "correct horse"})
    huge_password = await client.post(LOGIN, json={"email": "ada@example.com", "password": "x" * 5000})
    for response in (wrong_password, unknown_email, huge_password):
        assert_error(response, 401, "invalid_credentials")
    assert wrong_password.json() == unknown_email.json() == huge_password.json()


async def test_a_database_outage_is_a_503_with_retry_after(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    fakes.users.down = True
    response = await client.post(REGISTER, json={"email": "ada@example.com", "password": "correct horse"})
    assert_error(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "7"
