"""The platform chart installed into the local cluster (kwok simulates its pods), with its own NATS
cluster: every object is created and accepted by the API server, the NATS StatefulSet's three pods
run on their bound volumes, each disruption budget covers its pods, and the provisioner's pods run
as its ServiceAccount, which may do what provisioning needs and nothing more."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.charts.conftest import PLATFORM_CHART

pytestmark = pytest.mark.integration

SERVICES = ("gateway", "provisioner", "status", "notifier")


@dataclass(frozen=True)
class Installed:
    """A release of the chart in a namespace of its own, and kubectl for the cluster."""

    release: str
    namespace: str
    kubectl: list[str]

    def get(self, kind: str, name: str = "") -> dict[str, Any]:
        out = run(*self.kubectl, "get", kind, *([name] if name else []), "-n", self.namespace, "-o", "yaml")
        found: dict[str, Any] = yaml.safe_load(out)
        return found

    def can(self, *request: str) -> bool:
        """Whether the provisioner's ServiceAccount may do `request` (a SubjectAccessReview)."""
        account = f"system:serviceaccount:{self.namespace}:{self.release}-provisioner"
        done = subprocess.run(
            [*self.kubectl, "auth", "can-i", *request, "--as", account, "--quiet"], capture_output=True, check=False
        )
        assert done.returncode in {0, 1}, done.stderr
        return done.returncode == 0


def run(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def installed(kubeconfig: Path, cluster_bin: Path) -> Iterator[Installed]:
    suffix = uuid.uuid4().hex[:6]
    # The release names the cluster-scoped ClusterRole and admission policy: one of its own.
    chart = Installed(
        f"spc-{suffix}", f"sp-chart-{suffix}", [str(cluster_bin / "kubectl"), "--kubeconfig", str(kubeconfig)]
    )
    helm = [str(cluster_bin / "helm"), "--kubeconfig", str(kubeconfig), "--namespace", chart.namespace]
    run(*chart.kubectl, "create", "namespace", chart.namespace)
    try:
        url = "postgresql://storeplane@127.0.0.1:5432/storeplane"  # never dialled: kwok runs no containers
        run(
            *chart.kubectl,
            "create",
            "secret",
            "generic",
            "storeplane-database",
            f"--from-literal=url={url}",
            "-n",
            chart.namespace,
        )
        run(*helm, "install", chart.release, str(PLATFORM_CHART), "--wait", "--timeout", "180s")
        yield chart
        run(*helm, "uninstall", chart.release, "--wait", "--timeout", "120s")
    finally:
        # The namespace takes what the release keeps (its Secrets, the NATS volumes' claims) with it.
        run(*chart.kubectl, "delete", "namespace", chart.namespace, "--wait=false")


def test_every_object_is_created(installed: Installed) -> None:
    names = {
        kind: {item["metadata"]["name"] for item in installed.get(kind)["items"]}
        for kind in ("deployments", "statefulsets", "services", "poddisruptionbudgets", "hpa", "networkpolicies")
    }
    release = installed.release
    services = {f"{release}-{service}" for service in SERVICES}
    assert names["deployments"] == services
    assert names["statefulsets"] == {f"{release}-nats"}
    assert names["services"] == {f"{release}-gateway", f"{release}-nats", f"{release}-nats-headless"}
    assert names["poddisruptionbudgets"] == services | {f"{release}-nats"}
    assert names["hpa"] == services
    assert names["networkpolicies"] == services | {f"{release}-nats"}
    role = yaml.safe_load(run(*installed.kubectl, "get", "clusterrole", f"{release}-provisioner", "-o", "yaml"))
    assert role["rules"], role


def test_the_nats_cluster_runs_three_peers_on_their_own_volumes(installed: Installed) -> None:
    pods = {pod["metadata"]["name"]: pod for pod in installed.get("pods")["items"]}
    peers = [f"{installed.release}-nats-{i}" for i in range(3)]
    assert all(pods[peer]["status"]["phase"] == "Running" for peer in peers), {p: pods[p]["status"] for p in peers}
    claims = {claim["metadata"]["name"]: claim for claim in installed.get("pvc")["items"]}
    assert {f"data-{peer}" for peer in peers} == set(claims)
    assert {claim["status"]["phase"] for claim in claims.values()} == {"Bound"}
    for service in SERVICES:
        running = [pod for name, pod in pods.items() if name.startswith(f"{installed.release}-{service}-")]
        assert len(running) == 2 and {pod["status"]["phase"] for pod in running} == {"Running"}, service


def test_each_disruption_budget_covers_its_pods(installed: Installed) -> None:
    """The budget's controller counts the pods its selector picks: 2 per service (1 may go), 3 peers (1 may go)."""
    deadline = time.monotonic() + 60
    while True:
        budgets = {b["metadata"]["name"]: b.get("status", {}) for b in installed.get("pdb")["items"]}
        counts = {name: (s.get("expectedPods"), s.get("disruptionsAllowed")) for name, s in budgets.items()}
        wanted = {f"{installed.release}-{service}": (2, 1) for service in SERVICES}
        if counts == {**wanted, f"{installed.release}-nats": (3, 1)}:
            return
        assert time.monotonic() < deadline, counts
        time.sleep(1)


def test_the_provisioner_runs_as_its_least_privilege_service_account(installed: Installed) -> None:
    pods = installed.get("pods")["items"]
    account = f"{installed.release}-provisioner"
    for pod in pods:
        component = pod["metadata"]["labels"]["app.kubernetes.io/component"]
        if component == "provisioner":
            assert pod["spec"]["serviceAccountName"] == account
        else:
            assert pod["spec"]["automountServiceAccountToken"] is False, component
    # What provisioning needs (RBAC; the admission policy narrows writes to store namespaces).
    for allowed in (
        ("create", "namespaces"),
        ("delete", "namespaces"),
        ("create", "resourcequotas", "-n", "store-x"),
        ("create", "secrets", "-n", "store-x"),
        ("patch", "deployments.apps", "-n", "store-x"),
        ("create", "statefulsets.apps", "-n", "store-x"),
        ("create", "networkpolicies.networking.k8s.io", "-n", "store-x"),
        ("watch", "pods", "-n", "store-x"),
        ("list", "events", "-n", "store-x"),
    ):
        assert installed.can(*allowed), allowed
    # And no more: nothing on nodes or RBAC, no running commands in pods, no new identities.
    for refused in (
        ("get", "nodes"),
        ("create", "clusterroles.rbac.authorization.k8s.io"),
        ("create", "rolebindings.rbac.authorization.k8s.io", "-n", "store-x"),
        ("create", "pods/exec", "-n", "store-x"),
        ("create", "pods", "-n", "store-x"),
        ("delete", "pods", "-n", "store-x"),
        ("create", "serviceaccounts", "-n", "store-x"),
        ("create", "serviceaccounts/token", "-n", installed.namespace),
        ("impersonate", "users"),
        ("create", "customresourcedefinitions.apiextensions.k8s.io"),
        ("create", "events", "-n", "store-x"),
        ("*", "*"),
    ):
        assert not installed.can(*refused), refused
