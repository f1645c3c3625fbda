"""Probes, metrics and the API description."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import sign_up


async def test_health_is_always_ok(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    fakes.bus.connected = False
    fakes.users.down = True
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_every_dependency_answers(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"nats": "ok", "postgres": "ok", "status": "ok"}}


async def test_not_ready_names_the_failing_dependency(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    fakes.bus.connected = False
    response = await client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "not_ready"
    assert "nats" in body["error"]["message"] and "postgres" not in body["error"]["message"]
    assert body["checks"]["postgres"] == "ok" and body["checks"]["nats"] != "ok"

    fakes.bus.connected = True
    fakes.users.down = True
    body = (await client.get("/ready")).json()
    assert "postgres" in body["error"]["message"] and body["checks"]["nats"] == "ok"

    fakes.users.down = False
    fakes.status.available = False
    response = await client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["message"].startswith("not ready: status not answering")
    assert body["checks"] == {"nats": "ok", "postgres": "ok", "status": body["checks"]["status"]}
    assert body["checks"]["status"].startswith("not answering")


async def test_metrics_are_exposed_for_prometheus(client: AsyncTestClient[Litestar]) -> None:
    await sign_up(client)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "storeplane_gateway_requests_total" in response.text
    assert 'path="/api/v1/auth/register"' in response.text


async def test_the_openapi_schema_documents_bearer_auth_and_errors(client: AsyncTestClient[Litestar]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "Bearer",
        "name": "Authorization",
        "bearerFormat": "JWT",
        "description": (
            "An access token (JWT) from POST /api/v1/auth/register, /login or /refresh, "
            "or an API token (sp_...) from POST /api/v1/tokens."
        ),
    }
    create = schema["paths"]["/api/v1/stores"]["post"]
    assert create["security"] == [{"BearerToken": []}]
    assert set(create["responses"]) >= {"202", "400", "401", "409", "422", "503"}
    for status in ("400", "409", "503"):
        assert create["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    assert {"Location", "X-Stream-Sequence", "X-Trace-Id"} <= set(create["responses"]["202"]["headers"])
    assert "security" not in schema["paths"]["/api/v1/auth/login"]["post"]
    get_store = schema["paths"]["/api/v1/stores/{store_id}"]["get"]
    assert any(p["name"] == "X-Min-Sequence" and p["in"] == "header" for p in get_store["parameters"])


async def test_the_swagger_ui_is_served(client: AsyncTestClient[Litestar]) -> None:
    for path in ("/schema", "/schema/swagger"):
        response = await client.get(path)
        assert response.status_code == 200
        assert "swagger" in response.text.lower()


async def test_every_documented_error_has_the_error_shape(client: AsyncTestClient[Litestar]) -> None:
    """Litestar documents its own 400 shape unless a route says otherwise; ours must win everywhere."""
    schema = (await client.get("/schema/openapi.json")).json()
    wrong = [
        f"{method.upper()} {path} {status}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if int(status) >= 400
        and path != "/ready"  # its 503 carries each dependency's state besides the error
        and response.get("content", {}).get("application/json", {}).get("schema")
        != {"$ref": "#/components/schemas/ErrorBody"}
    ]
    assert wrong == []


async def test_created_resources_link_to_what_comes_next(client: AsyncTestClient[Litestar]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    links = schema["paths"]["/api/v1/stores"]["post"]["responses"]["202"]["links"]
    assert links["GetStore"] == {
        "operationRef": "#/paths/~1api~1v1~1stores~1{store_id}/get",
        "parameters": {"path.store_id": "$response.body#/id"},
    }
    assert set(schema["paths"]["/api/v1/tokens"]["post"]["responses"]["201"]["links"]) == {"RevokeToken"}
