"""A store's event stream on the whole platform: the real provisioner's steps arrive live, in order,
each message the timeline's entry; the stream ends after the store is deleted."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.test_store_lifecycle import register
from tests.integration.gateway.streaming import following

pytestmark = pytest.mark.e2e


async def test_a_store_followed_from_order_to_deletion(platform: str, http: httpx.AsyncClient) -> None:
    auth = await register(http)
    created = await http.post("/api/v1/stores", json={"name": "live-shop", "engine": "woocommerce"}, headers=auth)
    assert created.status_code == 202, created.text
    location = created.headers["location"]
    async with following(platform, f"{location}/events/stream", auth) as follower:
        await follower.until(lambda f: "StoreReady" in f.types or "ProvisioningFailed" in f.types, timeout=600)
        assert follower.types[-1] == "StoreReady", follower.bodies[-1]
        assert follower.types[0] == "StoreRequested" and "ChartInstalled" in follower.types
        read_all = {**auth, "X-Min-Sequence": str(follower.ids[-1])}
        timeline = (await http.get(f"{location}/events", headers=read_all)).json()["events"]
        assert [{**entry, "store_id": created.json()["id"]} for entry in timeline] == follower.bodies
        assert (await http.delete(location, headers=auth)).status_code == 202
        async with asyncio.timeout(300):
            await follower.ended.wait()
    assert follower.error is None and follower.types[-1] == "StoreDeleted"
    assert follower.ids == sorted(set(follower.ids))
