"""GET /api/v1/stats/steps and a store's `estimated_ready_at`, as the status service tells them."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts.queries import StepDurations
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import assert_error, sign_up

FIGURES = StepDurations(engine="woocommerce", step="chart", samples=4, p50_seconds=12.5, p95_seconds=40.0)


async def test_any_signed_in_user_reads_the_figures(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    fakes.status.step_figures = [FIGURES]
    assert_error(await client.get("/api/v1/stats/steps"), 401, "not_authenticated")
    ada = await sign_up(client)
    answer = await client.get("/api/v1/stats/steps", headers=ada.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"steps": [msgspec.to_builtins(FIGURES)]}


async def test_the_status_service_away_is_503(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    fakes.status.available = False
    assert_error(await client.get("/api/v1/stats/steps", headers=ada.headers), 503, "status_unavailable")


async def test_a_store_being_provisioned_shows_when_it_is_likely_ready(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    store = fakes.status.add_store(owner_id=ada.id, name="shop", status="provisioning")
    estimate = datetime(2030, 1, 1, tzinfo=UTC)
    fakes.status.stores[store.id] = msgspec.structs.replace(store, estimated_ready_at=estimate)
    body = (await client.get(f"/api/v1/stores/{store.id}", headers=ada.headers)).json()
    assert body["estimated_ready_at"] == "2030-01-01T00:00:00Z"
    ready = fakes.status.add_store(owner_id=ada.id, name="done")
    assert "estimated_ready_at" not in (await client.get(f"/api/v1/stores/{ready.id}", headers=ada.headers)).json()
