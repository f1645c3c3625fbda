"""One contract for the provisioner's `Cluster` port, passed by the Kubernetes adapter on the real
API server and by the unit tests' in-memory twin alike, so the fake cannot drift from the real one."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest

from storeplane_provisioner.cluster import KubernetesCluster, connect
from storeplane_provisioner.ports import Cluster
from tests.unit.provisioner.fakes import FakeCluster, no_heartbeat

pytestmark = pytest.mark.integration

CREDENTIALS = {"admin-user": "admin", "admin-password": "first"}


@pytest.fixture(params=["in-memory", "kubernetes"])
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    if request.param == "in-memory":
        yield FakeCluster()
        return
    api = await connect(request.getfixturevalue("kubeconfig"))
    try:
        yield KubernetesCluster(api, watch_seconds=5)
    finally:
        await api.close()


@pytest.fixture
async def store(cluster: Cluster) -> AsyncIterator[tuple[str, str]]:
    """A store's id and its namespace, created with the store label; deleted afterwards."""
    store_id = str(uuid.uuid4())
    namespace = f"contract-{store_id[:8]}"
    await cluster.ensure_namespace(namespace, {"storeplane.io/store-id": store_id})
    yield store_id, namespace
    await cluster.delete_namespace(namespace, deadline=time.time() + 60, heartbeat=no_heartbeat)


async def test_ensuring_twice_changes_nothing(cluster: Cluster, store: tuple[str, str]) -> None:
    store_id, namespace = store
    await cluster.ensure_namespace(namespace, {"storeplane.io/store-id": store_id})
    assert await cluster.ensure_secret(namespace, "store-credentials", CREDENTIALS) is True
    # A repeated step keeps the first credentials: they may already be in the release.
    second = {**CREDENTIALS, "admin-password": "second"}
    assert await cluster.ensure_secret(namespace, "store-credentials", second) is False
    assert await cluster.take_secret_once(namespace, "store-credentials", store_id=store_id) == CREDENTIALS


async def test_credentials_are_taken_once_and_only_by_their_store(cluster: Cluster, store: tuple[str, str]) -> None:
    store_id, namespace = store
    await cluster.ensure_secret(namespace, "store-credentials", CREDENTIALS)
    assert await cluster.take_secret_once(namespace, "store-credentials", store_id=str(uuid.uuid4())) == "not_found"
    assert await cluster.take_secret_once(namespace, "store-credentials", store_id=store_id) == CREDENTIALS
    assert await cluster.take_secret_once(namespace, "store-credentials", store_id=store_id) == "already_revealed"
    missing = await cluster.take_secret_once("contract-nowhere", "store-credentials", store_id=store_id)
    assert missing == "not_found"


async def test_deleting_what_is_gone_is_done(cluster: Cluster, store: tuple[str, str]) -> None:
    _, namespace = store
    await cluster.mark_deleting(namespace)
    await cluster.delete_namespace(namespace, deadline=time.time() + 60, heartbeat=no_heartbeat)
    # Gone: a repeated deletion (after a crash) finishes at once, labelling included.
    await cluster.mark_deleting(namespace)
    await cluster.delete_namespace(namespace, deadline=time.time() + 5, heartbeat=no_heartbeat)
    assert await cluster.take_secret_once(namespace, "store-credentials", store_id="any") == "not_found"
