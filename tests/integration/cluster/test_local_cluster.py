"""The local control plane behaves like a user's cluster: Helm installs reach `deployed`,
workloads become ready, volumes bind, quotas are counted, and namespaces delete."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

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


async def watch_until(list_call, predicate, *, timeout: float = 90, **kwargs) -> dict:
    """Follow a watch until an event's object satisfies `predicate`; return that object."""
    async with asyncio.timeout(timeout):
        while True:
            async with watch.Watch(return_type="object") as w:
                async for event in w.stream(list_call, timeout_seconds=30, **kwargs):
                    if predicate(event["type"], event["object"]):
                        return event["object"]


def helm(cluster_bin: Path, kubeconfig: Path, *args: str) -> dict:
    result = subprocess.run(
        [str(cluster_bin / "helm"), *args, "--output", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def test_helm_chart_becomes_ready_and_namespace_deletes(
    api: client.ApiClient, kubeconfig: Path, cluster_bin: Path
) -> None:
    core, apps, batch = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api)
    ns = f"it-{uuid.uuid4().hex[:8]}"
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
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

    def replicas_ready(kind: str, obj: dict) -> bool:
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

    # The quota controller counts what runs; admission applied the limit range's defaults.
    quota = await watch_until(
        core.list_namespaced_resource_quota,
        lambda _, q: q.get("status", {}).get("used", {}).get("persistentvolumeclaims") == "1",
        namespace=ns,
    )
    used = quota["status"]["used"]
    assert used["pods"] in ("3", "4")  # 2 web + 1 db (+ the job's pod until it is counted as done)
    assert used["requests.cpu"] != "0"

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

    def gone(event_type: str, obj: dict) -> bool:
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
