"""The platform chart's RBAC is enough for the provisioner and no more: a provisioner that
authenticates as the chart's ServiceAccount provisions and deletes a real store."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from faststream.nats import NatsBroker

from storeplane_contracts import events, naming
from storeplane_provisioner.bootstrap import running
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.bus import publish_event
from tests.integration.provisioner.support import events_of

pytestmark = pytest.mark.integration

CHART = Path(__file__).resolve().parents[3] / "charts" / "storeplane"
POLICY_REFUSAL = "may only change store namespaces"


def refused_text(command: list[str]) -> str | None:
    """The error text when the admission policy refused the command, else None."""
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.stderr if result.returncode != 0 and POLICY_REFUSAL in result.stderr else None


def run(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def service_account_kubeconfig(kubeconfig: Path, cluster_bin: Path, tmp_path: Path) -> Iterator[Path]:
    """A kubeconfig that authenticates as the chart's provisioner ServiceAccount."""
    kubectl = [str(cluster_bin / "kubectl"), "--kubeconfig", str(kubeconfig)]
    release = f"sp-{uuid.uuid4().hex[:6]}"  # the ClusterRole's name is per release
    run(*kubectl, "create", "namespace", release)
    rbac = run(
        str(cluster_bin / "helm"),
        "template",
        release,
        str(CHART),
        "--namespace",
        release,
        "--show-only",
        "templates/provisioner-rbac.yaml",
    )
    run(*kubectl, "apply", "-f", "-", stdin=rbac)
    token = run(*kubectl, "create", "token", f"{release}-provisioner", "-n", release).strip()
    config = json.loads(kubeconfig.read_text())
    config["users"] = [{"name": "storeplane-admin", "user": {"token": token}}]
    path = tmp_path / "provisioner.kubeconfig"
    path.write_text(json.dumps(config))
    # The API server loads a new admission policy within seconds; a server-side dry run (which
    # passes admission and writes nothing) says when it is in force.
    probe = [str(cluster_bin / "kubectl"), "--kubeconfig", str(path), "create", "configmap", "probe", "-n", release]
    deadline = time.monotonic() + 30
    while refused_text([*probe, "--dry-run=server"]) is None:
        assert time.monotonic() < deadline, "the provisioner's admission policy never came into force"
        time.sleep(0.2)
    yield path
    run(*kubectl, "delete", "-f", "-", "--wait=false", stdin=rbac)
    run(*kubectl, "delete", "namespace", release, "--wait=false")


async def test_the_chart_service_account_can_provision_and_delete(
    nats_url: str, provisioner_settings: ProvisionerSettings, broker: NatsBroker, service_account_kubeconfig: Path
) -> None:
    settings = provisioner_settings.model_copy(update={"kubeconfig": service_account_kubeconfig})
    async with running(settings):
        store_id = str(uuid.uuid4())
        namespace = naming.namespace_for("rbac-shop", store_id)
        await publish_event(
            broker,
            events.StoreRequested(
                store_id=store_id, owner_id="o", name="rbac-shop", engine="woocommerce", namespace=namespace
            ),
        )
        timeline = await events_of(nats_url, store_id, events.StoreReady)
        assert isinstance(timeline[-1], events.StoreReady), timeline[-1]
        await publish_event(broker, events.StoreDeletionRequested(store_id=store_id, owner_id="o", namespace=namespace))
        deletion = await events_of(nats_url, store_id, events.StoreDeleted)
        assert isinstance(deletion[-1], events.StoreDeleted), deletion[-1]


def test_the_service_account_may_change_nothing_outside_store_namespaces(
    service_account_kubeconfig: Path, cluster_bin: Path
) -> None:
    """What the ClusterRole would allow anywhere, the admission policy refuses outside stores."""
    as_provisioner = [str(cluster_bin / "kubectl"), "--kubeconfig", str(service_account_kubeconfig)]
    attempts = [
        ["create", "configmap", "planted", "-n", "default"],
        ["create", "namespace", f"not-a-store-{uuid.uuid4().hex[:6]}"],
        ["label", "namespace", "default", "storeplane.io/store-id=forged"],
    ]
    for attempt in attempts:
        assert refused_text([*as_provisioner, *attempt]) is not None, attempt
    # Reading is RBAC's business alone: still allowed (readiness and drift need it).
    run(*as_provisioner, "get", "configmaps", "-n", "default")
