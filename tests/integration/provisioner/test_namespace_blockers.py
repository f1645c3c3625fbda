"""A namespace whose deletion is held back by finalizers, on the real local Kubernetes API: the
provisioner names the objects and their finalizers, and finishes once they are released."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from kubernetes_asyncio import client, config

from storeplane_provisioner.adapters.kubernetes.cluster import KubernetesCluster
from storeplane_provisioner.errors import StepTimedOut

pytestmark = pytest.mark.integration

HOLD = "storeplane.io/test-hold"


async def no_heartbeat() -> None:
    return None


async def test_a_stuck_namespace_names_what_holds_it_and_goes_once_released(kubeconfig: Path) -> None:
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
        cluster = KubernetesCluster(api, heartbeat_seconds=1)
        namespace = f"stuck-{uuid.uuid4().hex[:8]}"
        await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        held = client.V1ObjectMeta(name="hold", finalizers=[HOLD])
        await core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=held))
        # A kind from an API group too, listed under /apis/<group>/<version>.
        await rbac.create_namespaced_role(namespace, client.V1Role(metadata=held, rules=[]))

        with pytest.raises(StepTimedOut) as stuck:
            await cluster.delete_namespace(namespace, deadline=time.time() + 8, heartbeat=no_heartbeat)

        assert stuck.value.reason == "namespace_stuck"
        assert f"namespace {namespace} is stuck terminating" in stuck.value.message
        assert f"configmaps/hold (finalizers: {HOLD})" in stuck.value.message
        assert f"roles.rbac.authorization.k8s.io/hold (finalizers: {HOLD})" in stuck.value.message

        released = {"metadata": {"finalizers": None}}
        await core.patch_namespaced_config_map("hold", namespace, released)
        await rbac.patch_namespaced_role("hold", namespace, released)
        await cluster.delete_namespace(namespace, deadline=time.time() + 60, heartbeat=no_heartbeat)
        assert namespace not in [ns.metadata.name for ns in (await core.list_namespace()).items]
