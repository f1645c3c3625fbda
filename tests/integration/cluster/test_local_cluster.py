"""The local control plane behaves like a user's cluster: Helm installs reach `deployed`,
workloads become ready, volumes bind, quotas are counted, and namespaces delete."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException

pytestmark = pytest.mark.integration

SAMPLE_CHART = Path(__file__).resolve().parents[2] / "charts" / "sample"


@pytest.fixture
async def api(kubeconfig: Path) -> AsyncIterator[client.ApiClient]:
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api_client:
        yield api_client


async def watch_until(
    list_call: Callable[..., Any],
    predicate: Callable[[str, dict[str, Any]], bool],
    *,
    timeout: float = 90,
    **kwargs: Any,
) -> dict[str, Any]:
    """Follow a watch until an event's object satisfies `predicate`; return that object."""
    async with asyncio.timeout(timeout):
        while True:
            async with watch.Watch(return_type="object") as w:
                async for event in w.stream(list_call, timeout_seconds=30, **kwargs):
                    if predicate(event["type"], event["object"]):
                        found: dict[str, Any] = event["object"]
                        return found


def helm(cluster_bin: Path, kubeconfig: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [str(cluster_bin / "helm"), *args, "--output", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    release: dict[str, Any] = json.loads(result.stdout)
    return release


@pytest.fixture
async def ns(api: client.ApiClient) -> AsyncIterator[str]:
    """A fresh namespace, removed afterwards if the test failed before deleting it."""
    core = client.CoreV1Api(api)
    name = f"it-{uuid.uuid4().hex[:8]}"
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    try:
        await core.delete_namespace(name)
    except ApiException as refused:
        if refused.status not in (404, 409):  # gone already, or terminating
            raise


async def test_helm_chart_becomes_ready_and_namespace_deletes(
    api: client.ApiClient, kubeconfig: Path, cluster_bin: Path, ns: str
) -> None:
    core, apps, batch = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api)
    await core.create_namespaced_resource_quota(
        ns,
        client.V1ResourceQuota(
            metadata=client.V1ObjectMeta(name="quota"),
            spec=client.V1ResourceQuotaSpec(
                hard={"requests.cpu": "1", "requests.memory": "1Gi", "pods": "10", "persistentvolumeclaims": "2"}
            ),
        ),
    )
    await core.create_namespaced_limit_range(
        ns,
        client.V1LimitRange(
            metadata=client.V1ObjectMeta(name="limits"),
            spec=client.V1LimitRangeSpec(
                limits=[
                    client.V1LimitRangeItem(
                        type="Container",
                        default={"cpu": "200m", "memory": "128Mi"},
                        default_request={"cpu": "50m", "memory": "64Mi"},
                    )
                ]
            ),
        ),
    )

    release = await asyncio.to_thread(
        helm, cluster_bin, kubeconfig, "upgrade", "--install", "sample", str(SAMPLE_CHART), "--namespace", ns
    )
    assert release["info"]["status"] == "deployed"

    def replicas_ready(kind: str, obj: dict[str, Any]) -> bool:
        spec, status = obj.get("spec", {}), obj.get("status", {})
        return bool(status.get("readyReplicas", 0) >= spec.get("replicas", 1))

    await watch_until(apps.list_namespaced_deployment, replicas_ready, namespace=ns)
    await watch_until(apps.list_namespaced_stateful_set, replicas_ready, namespace=ns)
    await watch_until(
        batch.list_namespaced_job,
        lambda _, job: any(
            c["type"] == "Complete" and c["status"] == "True" for c in job.get("status", {}).get("conditions", [])
        ),
        namespace=ns,
    )
    claims = await core.list_namespaced_persistent_volume_claim(ns)
    assert [c.status.phase for c in claims.items] == ["Bound"]
    policies = await client.NetworkingV1Api(api).list_namespaced_network_policy(ns)
    assert [p.metadata.name for p in policies.items] == ["sample-web"]
    ingresses = await client.NetworkingV1Api(api).list_namespaced_ingress(ns)
    assert [i.spec.rules[0].host for i in ingresses.items] == ["sample.stores.localhost"]

    # The quota controller counts what runs: 2 web pods and 1 db pod at 10m and 16Mi each
    # (the Job's pod stops counting once it has completed).
    quota = await watch_until(
        core.list_namespaced_resource_quota,
        lambda _, q: q.get("status", {}).get("used", {}).get("pods") == "3",
        namespace=ns,
    )
    assert quota["status"]["used"] == {
        "pods": "3",
        "persistentvolumeclaims": "1",
        "requests.cpu": "30m",
        "requests.memory": "48Mi",
    }

    # Admission fills in the limit range's defaults for a container that names no resources.
    defaulted = await core.create_namespaced_pod(
        ns,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="defaulted"),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="registry.k8s.io/pause:3.10")]),
        ),
    )
    resources = defaulted.spec.containers[0].resources
    assert resources.requests == {"cpu": "50m", "memory": "64Mi"}
    assert resources.limits == {"cpu": "200m", "memory": "128Mi"}

    # Quota is enforced: a pod asking for more than is left is refused.
    with pytest.raises(ApiException) as refused:
        await core.create_namespaced_pod(
            ns,
            client.V1Pod(
                metadata=client.V1ObjectMeta(name="too-big"),
                spec=client.V1PodSpec(
                    containers=[
                        client.V1Container(
                            name="c",
                            image="registry.k8s.io/pause:3.10",
                            resources=client.V1ResourceRequirements(
                                requests={"cpu": "2", "memory": "64Mi"}, limits={"cpu": "2", "memory": "64Mi"}
                            ),
                        )
                    ]
                ),
            ),
        )
    assert refused.value.status == 403 and "exceeded quota" in str(refused.value.body)

    terminating = await core.delete_namespace(ns)

    def gone(event_type: str, obj: dict[str, Any]) -> bool:
        return event_type == "DELETED"

    # Watching from the deletion's resource version cannot miss the DELETED event.
    await watch_until(
        core.list_namespace,
        gone,
        timeout=120,
        field_selector=f"metadata.name={ns}",
        resource_version=terminating.metadata.resource_version,
    )
    with pytest.raises(ApiException) as missing:
        await core.read_namespace(ns)
    assert missing.value.status == 404


async def test_the_nodes_have_room_for_a_large_tenant_base(api: client.ApiClient, ns: str) -> None:
    """More pods than three real nodes' default of 110 each: the 1,000-store simulation and every test's
    stores fit on the simulated nodes (which once refused them with `Too many pods`)."""
    replicas = 400
    container = client.V1Container(
        name="app", image="registry.k8s.io/pause:3.10", resources=client.V1ResourceRequirements(requests={"cpu": "1"})
    )
    labels = {"app": "crowd"}
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="crowd"),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels), spec=client.V1PodSpec(containers=[container])
            ),
        ),
    )
    await client.AppsV1Api(api).create_namespaced_deployment(ns, deployment)

    def all_ready(_: str, obj: dict[str, Any]) -> bool:
        return int(obj.get("status", {}).get("readyReplicas") or 0) == replicas

    await watch_until(
        client.AppsV1Api(api).list_namespaced_deployment,
        all_ready,
        namespace=ns,
        timeout=240,
        field_selector="metadata.name=crowd",
    )
