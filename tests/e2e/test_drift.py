"""Drift repair: a ready store whose objects are deleted outside Storeplane is marked
`degraded` with the reason and repaired back to `ready`, every action in its timeline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_store_lifecycle import register, wait_for_store

pytestmark = pytest.mark.e2e


async def kubectl(cluster_bin: Path, kubeconfig: Path, *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        str(cluster_bin / "kubectl"), "--kubeconfig", str(kubeconfig), *args, stdout=asyncio.subprocess.DEVNULL
    )
    assert await process.wait() == 0, args


@pytest.mark.parametrize("damage", ["deployment", "namespace"])
async def test_a_store_changed_outside_storeplane_is_repaired(
    http: httpx.AsyncClient, kubeconfig: Path, cluster_bin: Path, damage: str
) -> None:
    auth = await register(http)
    created = await http.post(
        "/api/v1/stores", json={"name": f"drift-{damage[:6]}", "engine": "woocommerce"}, headers=auth
    )
    assert created.status_code == 202, created.text
    location, namespace = created.headers["location"], created.json()["namespace"]
    await wait_for_store(http, location, auth, lambda s: s.get("status") == "ready")

    if damage == "deployment":
        await kubectl(cluster_bin, kubeconfig, "delete", "deployment", "store-woocommerce-wordpress", "-n", namespace)
    else:
        await kubectl(cluster_bin, kubeconfig, "delete", "namespace", namespace, "--wait=true")

    types: list[str] = []
    try:
        async with asyncio.timeout(180):
            while "StoreDegraded" not in types or types[-1] != "StoreReady":
                await asyncio.sleep(1)
                timeline = (await http.get(f"{location}/events", headers=auth)).json()["events"]
                types = [e["type"] for e in timeline]
    except TimeoutError:
        pytest.fail(f"not repaired within 180 s; timeline: {types}")
    degraded = next(e for e in timeline if e["type"] == "StoreDegraded")
    expected = "objects_missing" if damage == "deployment" else "namespace_missing"
    assert degraded["data"]["reason"] == expected, degraded
    store = (await http.get(location, headers=auth)).json()
    assert store["status"] == "ready" and store["error"] is None
    await kubectl(cluster_bin, kubeconfig, "get", "deployment", "store-woocommerce-wordpress", "-n", namespace)
