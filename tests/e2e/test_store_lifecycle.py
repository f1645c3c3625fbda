"""A user's whole journey, through the HTTP API only: register, log in, create a
WooCommerce store, watch it become ready, read its timeline, delete it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.steps import PROVISIONING_STEPS

pytestmark = pytest.mark.e2e


async def register(http: httpx.AsyncClient) -> dict[str, str]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    response = await http.post("/api/v1/auth/register", json={"email": email, "password": "correct horse battery"})
    assert response.status_code == 201, response.text
    login = await http.post("/api/v1/auth/login", json={"email": email, "password": "correct horse battery"})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


async def wait_for_store(
    http: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 180,
) -> dict[str, Any]:
    """Follow the store as a user would, re-reading it until `done` (the API has no push yet)."""
    store: dict[str, Any] = {}
    async with asyncio.timeout(timeout):
        while not done(store):
            response = await http.get(path, headers=headers)
            assert response.status_code == 200, response.text
            store = response.json()
            if not done(store):
                await asyncio.sleep(0.5)
    return store


async def namespace_exists(cluster_bin: Path, kubeconfig: Path, namespace: str) -> bool:
    process = await asyncio.create_subprocess_exec(
        *(str(cluster_bin / "kubectl"), "--kubeconfig", str(kubeconfig), "get", "namespace", namespace),
        *("--ignore-not-found", "-o", "name"),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.strip() == f"namespace/{namespace}".encode()


async def test_a_store_goes_from_requested_to_ready_and_is_deleted(
    http: httpx.AsyncClient, kubeconfig: Path, cluster_bin: Path
) -> None:
    auth = await register(http)
    assert (await http.get("/api/v1/stores")).status_code == 401

    created = await http.post("/api/v1/stores", json={"name": "E2E Shop", "engine": "woocommerce"}, headers=auth)
    assert created.status_code == 202, created.text
    store = created.json()
    assert store["name"] == "e2e-shop" and store["engine"] == "woocommerce" and store["status"] == "requested"
    assert store["namespace"].startswith("store-e2e-shop-")
    location = created.headers["location"]
    assert location == f"/api/v1/stores/{store['id']}"
    assert len(created.headers["x-trace-id"]) == 32

    # Read-your-writes: the creator sees the store at once.
    seen = await http.get(location, headers={**auth, "X-Min-Sequence": created.headers["x-stream-sequence"]})
    assert seen.status_code == 200 and seen.json()["id"] == store["id"]

    ready = await wait_for_store(http, location, auth, lambda s: s.get("status") in ("ready", "failed"))
    assert ready["status"] == "ready", ready.get("error")
    assert await namespace_exists(cluster_bin, kubeconfig, store["namespace"])
    assert ready["urls"]["storefront"] == "http://e2e-shop.stores.localhost/"
    assert ready["error"] is None

    listed = await http.get("/api/v1/stores", headers=auth)
    assert [s["id"] for s in listed.json()["stores"]] == [store["id"]]

    timeline = (await http.get(f"{location}/events", headers=auth)).json()["events"]
    assert [e["type"] for e in timeline] == PROVISIONING_STEPS
    assert [e["occurred_at"] for e in timeline] == sorted(e["occurred_at"] for e in timeline)

    # Another user can neither see it nor act on it: every route answers as for a store that does not exist.
    stranger = await register(http)
    missing = f"/api/v1/stores/{uuid.uuid4()}"
    routes = [("GET", ""), ("GET", "/events"), ("GET", "/credentials"), ("DELETE", ""), ("POST", "/retry")]
    for method, suffix in routes:
        theirs = await http.request(method, f"{location}{suffix}", headers=stranger)
        nobodys = await http.request(method, f"{missing}{suffix}", headers=stranger)
        assert theirs.status_code == nobodys.status_code == 404, (method, suffix, theirs.text)
        assert theirs.json()["error"]["code"] == nobodys.json()["error"]["code"] == "store_not_found"

    # The owner reads the generated admin login once.
    credentials = await http.get(f"{location}/credentials", headers=auth)
    assert credentials.status_code == 200, credentials.text
    login = credentials.json()
    assert login["username"] == "admin" and len(login["password"]) >= 20
    assert login["admin_url"] == "http://e2e-shop.stores.localhost/wp-admin/"
    again = await http.get(f"{location}/credentials", headers=auth)
    assert again.status_code == 410 and again.json()["error"]["code"] == "credentials_already_revealed"
    timeline = (await http.get(f"{location}/events", headers=auth)).json()["events"]
    assert "CredentialsRevealed" in [e["type"] for e in timeline]
    assert login["password"] not in str(timeline)

    deleting = await http.delete(location, headers=auth)
    assert deleting.status_code == 202, deleting.text
    deleted = await wait_for_store(http, location, auth, lambda s: s.get("status") == "deleted")
    assert deleted["status"] == "deleted"
    timeline = (await http.get(f"{location}/events", headers=auth)).json()["events"]
    steps = [e["type"] for e in timeline if e["type"] != "StepRetrying"]  # a slow step may be retried
    assert steps[-3:] == ["StoreDeletionRequested", "ReleaseUninstalled", "StoreDeleted"]

    # The namespace is gone from the cluster, so the name can be used again.
    assert not await namespace_exists(cluster_bin, kubeconfig, store["namespace"])
    again = await http.post("/api/v1/stores", json={"name": "e2e-shop", "engine": "woocommerce"}, headers=auth)
    assert again.status_code == 202, again.text


async def test_bad_requests_get_clear_errors(http: httpx.AsyncClient) -> None:
    auth = await register(http)
    cases = [
        ({"name": "admin", "engine": "woocommerce"}, 422, "invalid_name"),
        ({"name": "x" * 60, "engine": "woocommerce"}, 422, "invalid_name"),
        ({"name": "shop!", "engine": "woocommerce"}, 422, "invalid_name"),
        ({"name": "good-name", "engine": "magento"}, 422, "unsupported_engine"),
    ]
    for body, status, code in cases:
        response = await http.post("/api/v1/stores", json=body, headers=auth)
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == code and error["message"], body
    missing = await http.get(f"/api/v1/stores/{uuid.uuid4()}", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "store_not_found"
