"""The platform chart's RBAC is enough for the provisioner and no more: a provisioner that
authenticates as the chart's ServiceAccount provisions and deletes a real store."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from faststream.nats import NatsBroker

from storeplane_contracts import events, naming
from storeplane_provisioner.bootstrap import start
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.bus import publish_event
from tests.integration.provisioner.support import events_of

pytestmark = pytest.mark.integration

CHART = Path(__file__).resolve().parents[3] / "charts" / "storeplane"


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
    yield path
    run(*kubectl, "delete", "-f", "-", "--wait=false", stdin=rbac)
    run(*kubectl, "delete", "namespace", release, "--wait=false")


async def test_the_chart_service_account_can_provision_and_delete(
    provisioner_settings: ProvisionerSettings, broker: NatsBroker, service_account_kubeconfig: Path
) -> None:
    settings = provisioner_settings.model_copy(update={"kubeconfig": service_account_kubeconfig})
    provisioner = await start(settings)
    try:
        store_id = str(uuid.uuid4())
        namespace = naming.namespace_for("rbac-shop", store_id)
        await publish_event(
            broker,
            events.StoreRequested(
                store_id=store_id, owner_id="o", name="rbac-shop", engine="woocommerce", namespace=namespace
            ),
        )
        timeline = await events_of(settings.nats_url, store_id, events.StoreReady)
        assert isinstance(timeline[-1], events.StoreReady), timeline[-1]
        await publish_event(broker, events.StoreDeletionRequested(store_id=store_id, owner_id="o", namespace=namespace))
        deletion = await events_of(settings.nats_url, store_id, events.StoreDeleted)
        assert isinstance(deletion[-1], events.StoreDeleted), deletion[-1]
    finally:
        await provisioner.stop()
