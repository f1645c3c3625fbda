"""The gateway serves the dashboard's build at `/`: hashed assets cached for good, index.html revalidated,
deep links falling back to the app, its own CSP, gzip; the API's paths keep their JSON and headers."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_gateway.app import create_app
from storeplane_gateway.areas.dashboard.services import DASHBOARD_CSP
from storeplane_gateway.http.hardening import API_CSP
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import assert_error

INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-3f2a.js"></script></head></html>'
BUNDLE = "export const app = 'storeplane';\n" * 100  # over the compressor's minimum size


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-3f2a.js").write_text(BUNDLE)
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return root


async def dashboard_client(fakes: Fakes, root: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(GatewaySettings(dashboard_dir=root), adapters=fakes.factory())
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture
async def served(fakes: Fakes, dist: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async for client in dashboard_client(fakes, dist):
        yield client


async def test_index_html_is_served_at_the_root_revalidated_with_the_dashboards_csp(
    served: AsyncTestClient[Litestar],
) -> None:
    answer = await served.get("/")
    assert answer.status_code == 200
    assert answer.text == INDEX
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["content-security-policy"] == DASHBOARD_CSP
    assert "'unsafe-inline'" not in DASHBOARD_CSP
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["x-content-type-options"] == "nosniff"


async def test_hashed_assets_are_cached_for_good_and_sent_gzipped(served: AsyncTestClient[Litestar]) -> None:
    answer = await served.get("/assets/index-3f2a.js", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.text == BUNDLE  # httpx decoded it
    assert len(gzip.compress(BUNDLE.encode())) < len(BUNDLE) / 5
    other = await served.get("/favicon.svg")
    assert other.status_code == 200 and other.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/stores", "/stores/st_123", "/integrations/webhooks/ep_1", "/index.html"])
async def test_deep_links_fall_back_to_the_app(served: AsyncTestClient[Litestar], path: str) -> None:
    answer = await served.get(path)
    assert answer.status_code == 200
    assert answer.text == INDEX
    assert answer.headers["cache-control"] == "no-cache"


async def test_a_missing_asset_is_a_404_not_the_page(served: AsyncTestClient[Litestar]) -> None:
    assert_error(await served.get("/assets/index-0ld.js"), 404, "not_found")


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"])
async def test_nothing_outside_the_build_is_served(served: AsyncTestClient[Litestar], path: str) -> None:
    answer = await served.get(path)
    assert "outside the build" not in answer.text


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/stores", "/api", "/health/x", "/metrics/x"])
async def test_unknown_api_paths_stay_json_404s_with_the_apis_headers(
    served: AsyncTestClient[Litestar], path: str
) -> None:
    answer = await served.get(path)
    assert_error(answer, 404, "not_found")
    assert answer.headers["content-security-policy"] == API_CSP


async def test_the_api_prefixes_are_whole_segments(served: AsyncTestClient[Litestar]) -> None:
    """`/healthz` or `/apis` are not the API's: the app's router shows its own "not found" for them."""
    for path in ("/healthz", "/apis/x", "/schemata"):
        assert (await served.get(path)).text == INDEX, path
    assert (await served.get("/schema/nothing")).status_code == 404  # Litestar's docs routes answer for /schema


async def test_the_api_keeps_its_headers_and_is_never_compressed(served: AsyncTestClient[Litestar]) -> None:
    answer = await served.get("/api/v1/stores", headers={"Accept-Encoding": "gzip"})
    assert_error(answer, 401, "not_authenticated")
    assert answer.headers["content-security-policy"] == API_CSP
    assert answer.headers["cache-control"] == "no-store"
    assert "content-encoding" not in answer.headers
    schema = await served.get("/schema/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in schema.headers
    assert not [path for path in schema.json()["paths"] if not path.startswith(("/api/", "/health", "/ready"))]


async def test_an_unbuilt_dashboard_says_how_to_build_it(fakes: Fakes, tmp_path: Path) -> None:
    async for client in dashboard_client(fakes, tmp_path / "never-built"):
        for path in ("/", "/stores/st_1"):
            message = assert_error(await client.get(path), 503, "dashboard_not_built")
            assert "make up" in message and "npm --prefix services/dashboard run build" in message
        assert (await client.get("/health")).status_code == 200
