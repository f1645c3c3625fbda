"""Each engine, provisioned through the API to ready on the local cluster: the objects its
chart promises exist in the store's namespace, the URLs (every one the engine offers) come
from its Ingress, and the owner can read the generated admin login once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypedDict

import httpx
import pytest
from kubernetes_asyncio import client, config

from tests.e2e.test_store_lifecycle import register, wait_for_store

pytestmark = pytest.mark.e2e

# The provisioner generates the admin password (`secrets.token_urlsafe(18)`: 24 characters);
# anything much shorter would be guessable.
MIN_PASSWORD_LENGTH = 20


class Expected(TypedDict):
    """What an engine's chart promises: its URL paths, workloads, setup jobs and admin login."""

    urls: dict[str, str]
    statefulsets: set[str]
    deployments: set[str]
    jobs: list[str]
    login: str


EXPECTED: dict[str, Expected] = {
    "woocommerce": {
        # The storefront, the Store API (public, no keys) and the WordPress admin.
        "urls": {"storefront": "/", "api": "/wp-json/wc/store/v1", "admin": "/wp-admin/"},
        "statefulsets": {"store-woocommerce-mysql"},
        "deployments": {"store-woocommerce-wordpress"},
        "jobs": ["store-woocommerce-setup-"],  # WordPress + WooCommerce installed by WP-CLI
        "login": "admin",
    },
    "medusa": {
        # Headless: the store API and the admin dashboard, no storefront.
        "urls": {"api": "/store", "admin": "/app"},
        "statefulsets": {"store-medusa-postgresql"},
        "deployments": {"store-medusa-redis", "store-medusa-server", "store-medusa-worker"},
        "jobs": [],  # demo products are seeded only when asked for
        "login": "admin",
    },
}


@pytest.fixture
async def kube(kubeconfig: Path) -> AsyncIterator[client.ApiClient]:
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        yield api


@pytest.mark.parametrize("engine", sorted(EXPECTED))
async def test_each_engine_reaches_ready_with_its_objects_urls_and_credentials(
    http: httpx.AsyncClient, kube: client.ApiClient, engine: str
) -> None:
    expected = EXPECTED[engine]
    auth = await register(http)
    name = f"{engine[:5]}-shop"
    created = await http.post("/api/v1/stores", json={"name": name, "engine": engine}, headers=auth)
    assert created.status_code == 202, created.text
    location, namespace = created.headers["location"], created.json()["namespace"]

    store = await wait_for_store(http, location, auth, lambda s: s.get("status") in ("ready", "failed"))
    assert store["status"] == "ready", store.get("error")
    host = f"http://{name}.stores.localhost"
    assert store["urls"] == {key: host + path for key, path in expected["urls"].items()}

    apps = client.AppsV1Api(kube)
    statefulsets = {s.metadata.name for s in (await apps.list_namespaced_stateful_set(namespace)).items}
    deployments = {d.metadata.name for d in (await apps.list_namespaced_deployment(namespace)).items}
    assert statefulsets == expected["statefulsets"]
    assert deployments == expected["deployments"]
    jobs = (await client.BatchV1Api(kube).list_namespaced_job(namespace)).items
    assert [j.metadata.name[: len(p)] for j, p in zip(jobs, expected["jobs"], strict=True)] == expected["jobs"]
    assert all(j.status.succeeded == 1 for j in jobs)
    claims = (await client.CoreV1Api(kube).list_namespaced_persistent_volume_claim(namespace)).items
    assert claims and all(c.status.phase == "Bound" for c in claims)

    revealed = await http.get(f"{location}/credentials", headers=auth)
    assert revealed.status_code == 200, revealed.text
    assert revealed.headers["cache-control"] == "no-store"
    login = revealed.json()
    # WordPress logs in with the user name, Medusa with the e-mail: both are the store's own.
    assert login["username"] == expected["login"] and login["email"] == f"admin@{name}.stores.localhost"
    assert isinstance(login["password"], str) and len(login["password"]) >= MIN_PASSWORD_LENGTH
    assert login["admin_url"] == store["urls"]["admin"]
    again = await http.get(f"{location}/credentials", headers=auth)
    assert again.status_code == 410 and again.json()["error"]["code"] == "credentials_already_revealed", again.text
    assert login["password"] not in again.text

    assert (await http.delete(location, headers=auth)).status_code == 202
    await wait_for_store(http, location, auth, lambda s: s.get("status") == "deleted")
