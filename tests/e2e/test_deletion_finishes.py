"""Deletion that finishes: a namespace held back by a finalizer Storeplane does not own is named,
object and finalizer, in the store's timeline while the provisioner keeps trying; once released,
the store is deleted and its name is free again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_drift import kubectl
from tests.e2e.test_store_lifecycle import register, wait_for_store

pytestmark = pytest.mark.e2e

HOLD = "storeplane.io/e2e-hold"


async def test_a_stuck_deletion_names_what_blocks_it_and_finishes_once_released(
    http: httpx.AsyncClient, kubeconfig: Path, cluster_bin: Path
) -> None:
    auth = await register(http)
    created = await http.post("/api/v1/stores", json={"name": "stuck-shop", "engine": "woocommerce"}, headers=auth)
    assert created.status_code == 202, created.text
    location, namespace = created.headers["location"], created.json()["namespace"]
    await wait_for_store(http, location, auth, lambda s: s.get("status") == "ready")
    await kubectl(cluster_bin, kubeconfig, "create", "configmap", "hold", "-n", namespace)
    finalizers = '{"metadata": {"finalizers": ["' + HOLD + '"]}}'
    await kubectl(cluster_bin, kubeconfig, "patch", "configmap", "hold", "-n", namespace, "-p", finalizers)

    assert (await http.delete(location, headers=auth)).status_code == 202
    note: dict[str, Any] | None = None
    async with asyncio.timeout(120):  # the e2e namespace_deletion deadline is 15 s
        while note is None:
            await asyncio.sleep(1)
            timeline = (await http.get(f"{location}/events", headers=auth)).json()["events"]
            note = next((e for e in timeline if e["type"] == "StepRetrying"), None)
    assert (note["data"]["step"], note["data"]["reason"]) == ("namespace_deletion", "namespace_stuck"), note
    assert f"configmaps/hold (finalizers: {HOLD})" in note["data"]["message"], note
    assert (await http.get(location, headers=auth)).json()["status"] == "deleting"
    taken = await http.post("/api/v1/stores", json={"name": "stuck-shop", "engine": "woocommerce"}, headers=auth)
    assert taken.status_code == 409, taken.text  # the old namespace is not gone: its name is not free yet

    released = '{"metadata": {"finalizers": null}}'
    await kubectl(cluster_bin, kubeconfig, "patch", "configmap", "hold", "-n", namespace, "-p", released)
    deleted = await wait_for_store(http, location, auth, lambda s: s.get("status") == "deleted")
    assert deleted["error"] is None
    again = await http.post("/api/v1/stores", json={"name": "stuck-shop", "engine": "woocommerce"}, headers=auth)
    assert again.status_code == 202, again.text
