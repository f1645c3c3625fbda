"""One contract for the provisioner's `Helm` port, passed by the Helm CLI adapter on the local
cluster and by the unit tests' in-memory twin alike, so the fake cannot drift from the real one."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from storeplane_provisioner.adapters.helm import HelmCli
from storeplane_provisioner.adapters.kubernetes.cluster import KubernetesCluster, connect
from storeplane_provisioner.ports import Helm
from tests.unit.provisioner.fakes import FakeHelm, no_heartbeat

pytestmark = pytest.mark.integration

CHART = Path(__file__).resolve().parents[2] / "charts" / "sample"
RELEASE = "store"


@pytest.fixture(params=["in-memory", "helm"])
async def helm(request: pytest.FixtureRequest) -> Helm:
    if request.param == "in-memory":
        return FakeHelm()
    cluster_bin: Path = request.getfixturevalue("cluster_bin")
    return HelmCli(str(cluster_bin / "helm"), request.getfixturevalue("kubeconfig"), timeout=60)


@pytest.fixture
async def namespace(helm: Helm, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A namespace for the release (on the cluster for the real Helm); deleted afterwards."""
    name = f"helm-contract-{uuid.uuid4().hex[:8]}"
    if isinstance(helm, FakeHelm):
        yield name
        return
    api = await connect(request.getfixturevalue("kubeconfig"))
    cluster = KubernetesCluster(api, watch_seconds=5)
    try:
        await cluster.ensure_namespace(name, {})
        yield name
        await cluster.delete_namespace(name, deadline=time.time() + 60, heartbeat=no_heartbeat)
    finally:
        await api.close()


def objects(manifest: str) -> list[tuple[str, str]]:
    """(kind, name) of every object in a rendered manifest."""
    return [(o["kind"], o["metadata"]["name"]) for o in yaml.safe_load_all(manifest) if isinstance(o, dict)]


async def test_a_release_not_installed_has_no_manifest(helm: Helm, namespace: str) -> None:
    assert await helm.manifest(RELEASE, namespace) is None


async def test_installing_again_upgrades_to_the_next_revision(helm: Helm, namespace: str) -> None:
    assert await helm.upgrade_install(RELEASE, CHART, namespace, {}) == 1
    assert await helm.upgrade_install(RELEASE, CHART, namespace, {"host": "other.stores.localhost"}) == 2


async def test_an_installed_release_has_its_objects_in_its_manifest(helm: Helm, namespace: str) -> None:
    await helm.upgrade_install(RELEASE, CHART, namespace, {})
    manifest = await helm.manifest(RELEASE, namespace)
    assert manifest is not None
    assert objects(manifest)  # what the drift check compares with the cluster
    assert all(kind and name.startswith(RELEASE) for kind, name in objects(manifest))


async def test_uninstalling_removes_the_release_and_may_be_repeated(helm: Helm, namespace: str) -> None:
    await helm.upgrade_install(RELEASE, CHART, namespace, {})
    await helm.uninstall(RELEASE, namespace)
    assert await helm.manifest(RELEASE, namespace) is None
    # A repeated deletion (after a crash) finds nothing to do; a new install starts afresh.
    await helm.uninstall(RELEASE, namespace)
    assert await helm.upgrade_install(RELEASE, CHART, namespace, {}) == 1
