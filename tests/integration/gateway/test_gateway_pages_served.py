"""The lists that grow, paged over real HTTP: the gateway under uvicorn, the real status service beside it,
real NATS and Postgres.

Paging through more stores than a page holds, with stores ordered between the pages, yields every store
that was there once, in order: none twice, none missing (the new ones are newer than any cursor handed
out). The same for an admin's `?all=true` across owners, and for a timeline that grows between pages.
`next` keeps the filters and the limit, and is the `Link` header's; a cursor that is not one is a 400
`invalid_cursor`, a limit out of bounds a 400 `invalid_request`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from storeplane_gateway.settings import GatewaySettings
from storeplane_status.bootstrap import bootstrap as status_service
from storeplane_status.settings import StatusSettings
from tests.integration.gateway.streaming import provisioning, put_on_stream
from tests.integration.gateway.support import served
from tests.unit.gateway.helpers import Account, assert_error, sign_up, sign_up_admin

pytestmark = pytest.mark.integration


@dataclass
class Platform:
    base_url: str
    nats_url: str


@pytest.fixture
async def platform(gateway_settings: GatewaySettings, clean_audit: str, database_url: str) -> AsyncIterator[Platform]:
    status = StatusSettings(nats_url=clean_audit, database_url=database_url, graceful_timeout=5.0)
    settings = gateway_settings.model_copy(
        update={"store_creates_per_minute_per_user": 0, "max_stores_per_user": 100, "query_timeout": 5.0}
    )
    async with status_service(status), served(settings) as base_url:
        yield Platform(base_url, clean_audit)


async def _order(client: httpx.AsyncClient, account: Account, name: str) -> str:
    response = await client.post(
        "/api/v1/stores", json={"name": name, "engine": "woocommerce"}, headers=account.headers
    )
    assert response.status_code == 202, response.text
    store_id: str = response.json()["id"]
    return store_id


async def _orders(client: httpx.AsyncClient, account: Account, prefix: str, count: int) -> list[str]:
    """`count` stores ordered one after another (so their order is known), newest first."""
    return [await _order(client, account, f"{prefix}-{i}") for i in range(count)][::-1]


async def _page(client: httpx.AsyncClient, url: str, account: Account, key: str) -> tuple[list[Any], str | None]:
    response = await client.get(url, headers=account.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == [key, "next"]
    link = response.headers.get("Link")
    assert link == (f'<{body["next"]}>; rel="next"' if body["next"] else None)
    return body[key], body["next"]


async def _until_listed(client: httpx.AsyncClient, url: str, account: Account, count: int) -> None:
    """Wait until the read model shows `count` items (the status service projects them meanwhile)."""
    async with asyncio.timeout(10):
        while len((await _page(client, url, account, "stores"))[0]) < count:  # noqa: ASYNC110 - no event to wait on
            await asyncio.sleep(0.05)


async def test_paging_through_stores_while_more_are_ordered_repeats_none_and_misses_none(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=10) as client:
        ada = await sign_up(client)
        there = await _orders(client, ada, "paged", 7)
        await _until_listed(client, "/api/v1/stores?limit=200", ada, 7)

        seen: list[str] = []
        pages: list[int] = []
        url: str | None = "/api/v1/stores?limit=3"
        while url is not None:
            stores, url = await _page(client, url, ada, "stores")
            seen += [store["id"] for store in stores]
            pages.append(len(stores))
            if url is not None:
                assert "limit=3" in url and url.startswith("/api/v1/stores?")
                await _order(client, ada, f"meanwhile-{len(pages)}")  # newer than every cursor handed out

        assert pages == [3, 3, 1]
        assert seen == there
        await _until_listed(client, "/api/v1/stores?limit=200", ada, 9)  # the two made meanwhile are there


async def test_an_admin_pages_through_every_owners_stores(
    platform: Platform, grant_admin: Callable[[str], Awaitable[None]]
) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=10) as client:
        ada, bob = await sign_up(client), await sign_up(client, "bob@example.com")
        root = await sign_up_admin(client, grant_admin)
        adas, bobs = await _orders(client, ada, "ada", 3), await _orders(client, bob, "bob", 2)
        await _until_listed(client, "/api/v1/stores?all=true&limit=200", root, 5)

        seen: list[dict[str, str]] = []
        url: str | None = "/api/v1/stores?all=true&limit=2"
        while url is not None:
            stores, url = await _page(client, url, root, "stores")
            seen += stores
            assert url is None or "all=true" in url

        assert [store["id"] for store in seen] == bobs + adas
        assert {store["owner_id"] for store in seen} == {ada.id, bob.id}
        own, _ = await _page(client, "/api/v1/stores?limit=2", root, "stores")
        assert own == []


async def test_a_timeline_is_paged_oldest_first_while_it_grows(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=10) as client:
        ada = await sign_up(client)
        response = await client.post(
            "/api/v1/stores", json={"name": "timed", "engine": "woocommerce"}, headers=ada.headers
        )
        store = response.json()
        steps = provisioning(store["id"], ada.id, store["namespace"])  # four events after the request
        sequences = [int(response.headers["X-Stream-Sequence"])]
        sequences += await put_on_stream(platform.nats_url, *steps[:2])
        reader = Account(ada.id, ada.email, ada.token)
        first_url = f"/api/v1/stores/{store['id']}/events?limit=2"
        read = {**ada.headers, "X-Min-Sequence": str(sequences[-1])}
        first = await client.get(first_url, headers=read)
        assert first.status_code == 200, first.text
        url = first.json()["next"]
        seen = [entry["sequence"] for entry in first.json()["events"]]
        sequences += await put_on_stream(platform.nats_url, *steps[2:])
        await asyncio.sleep(0.5)  # projected meanwhile
        while url is not None:
            events, url = await _page(client, url, reader, "events")
            seen += [entry["sequence"] for entry in events]

        assert seen == sequences


async def test_a_cursor_that_is_not_one_and_a_limit_out_of_bounds_are_refused(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=10) as client:
        ada = await sign_up(client)
        store_id = await _order(client, ada, "refused")
        for url in ("/api/v1/stores?cursor=bm9wZQ", f"/api/v1/stores/{store_id}/events?cursor=%21%21"):
            message = assert_error(await client.get(url, headers=ada.headers), 400, "invalid_cursor")
            assert "start again without `cursor`" in message
        for limit in ("0", "201", "many"):
            assert_error(await client.get(f"/api/v1/stores?limit={limit}", headers=ada.headers), 400, "invalid_request")
        assert_error(await client.get("/api/v1/stores?offset=3", headers=ada.headers), 400, "invalid_request")


async def test_an_admin_pages_through_the_audit_trail_with_its_filter_kept(
    platform: Platform, grant_admin: Callable[[str], Awaitable[None]]
) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=10) as client:
        root = await sign_up_admin(client, grant_admin)
        ada = await sign_up(client)
        for i in range(3):
            await _order(client, ada, f"audited-{i}")

        seen: list[dict[str, Any]] = []
        url: str | None = f"/api/v1/admin/audit?action=create_store&actor_id={ada.id}&limit=2"
        while url is not None:
            entries, url = await _page(client, url, root, "entries")
            seen += entries
            assert url is None or ("action=create_store" in url and "limit=2" in url)
            if url is not None:
                await _order(client, ada, "audited-meanwhile")  # newer than the cursor: on no later page

        assert [entry["action"] for entry in seen] == ["create_store"] * 3
        assert len({entry["target"] for entry in seen}) == 3
        assert_error(await client.get("/api/v1/admin/audit?cursor=abc", headers=root.headers), 400, "invalid_cursor")
