"""One contract for the provisioner's `Cluster` port, passed by the Kubernetes adapter on the real
API server and by the unit tests' in-memory twin alike, so the fake cannot drift from the real one.

It covers every method of the port; what only a real cluster can show (workloads that never get
ready, a namespace held back by finalizers) is in test_readiness_failures and test_namespace_blockers.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from storeplane_contracts.events import FailureStep
from storeplane_provisioner.adapters.kubernetes.cluster import KubernetesCluster, connect
from storeplane_provisioner.errors import TemporaryError
from storeplane_provisioner.ports import Cluster
from tests.unit.provisioner.fakes import FakeCluster, no_heartbeat

pytestmark = pytest.mark.integration

CREDENTIALS = {"admin-user": "admin", "admin-password": "first"}
QUOTA = {"pods": "5", "requests.cpu": "1"}


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


async def test_guard_rails_converge_when_applied_again(cluster: Cluster, store: tuple[str, str]) -> None:
    _, namespace = store
    for hard in (QUOTA, {**QUOTA, "pods": "6"}):  # a changed quota replaces the one there
        await cluster.ensure_resource_quota(namespace, hard)
        await cluster.ensure_limit_range(namespace)
        await cluster.ensure_network_policy(namespace)


async def test_what_goes_into_a_namespace_waits_for_the_namespace(cluster: Cluster) -> None:
    missing = f"contract-missing-{uuid.uuid4().hex[:8]}"
    attempts: list[tuple[FailureStep, Callable[[], Awaitable[object]]]] = [
        ("quota", lambda: cluster.ensure_resource_quota(missing, QUOTA)),
        ("limits", lambda: cluster.ensure_limit_range(missing)),
        ("network_policy", lambda: cluster.ensure_network_policy(missing)),
        ("credentials", lambda: cluster.ensure_secret(missing, "store-credentials", CREDENTIALS)),
    ]
    for step, attempt in attempts:
        # Temporary: the namespace step comes first, and a retry runs it again.
        with pytest.raises(TemporaryError) as failed:
            await attempt()
        assert failed.value.step == step


async def test_a_namespace_without_workloads_is_ready_at_once_and_has_no_urls(
    cluster: Cluster, store: tuple[str, str]
) -> None:
    _, namespace = store
    async with asyncio.timeout(30):
        await cluster.wait_workloads_ready(namespace, deadline=time.time() + 30, heartbeat=no_heartbeat)
    assert await cluster.ingress_urls(namespace) == {}


async def test_a_namespace_without_workloads_shows_nothing_that_holds_it_back(
    cluster: Cluster, store: tuple[str, str]
) -> None:
    _, namespace = store
    assert await cluster.stall_findings(namespace, since=time.time() - 60) == []
    assert await cluster.stall_findings(f"contract-missing-{uuid.uuid4().hex[:8]}", since=time.time()) == []


async def test_a_secret_that_was_never_created_is_not_found(cluster: Cluster, store: tuple[str, str]) -> None:
    store_id, namespace = store
    assert await cluster.take_secret_once(namespace, "store-credentials", store_id=store_id) == "not_found"
