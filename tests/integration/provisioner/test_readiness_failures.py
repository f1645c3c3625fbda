"""Readiness on the real local Kubernetes API: a StatefulSet or a Job whose pods the quota refuses
(their controllers say so only in Events) fails the wait at once, naming the object and the
refusal; a failed Job names how its pod ended; a claim stuck Pending says why."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client, watch

from storeplane_provisioner.adapters.kubernetes.cluster import KubernetesCluster, connect
from storeplane_provisioner.errors import PermanentError, StepTimedOut

pytestmark = pytest.mark.integration

# Far beyond what a refusal may take to be noticed: the tests assert it is noticed long before.
DEADLINE_SECONDS = 120
QUICK_SECONDS = 30


async def no_heartbeat() -> None:
    return None


@pytest.fixture
async def kube(kubeconfig: Path) -> AsyncIterator[KubernetesCluster]:
    api = await connect(kubeconfig)
    async with api:
        yield KubernetesCluster(api, heartbeat_seconds=1)


@pytest.fixture
async def namespace(kube: KubernetesCluster) -> AsyncIterator[str]:
    """A namespace with the provisioner's guard rails (restricted Pod Security, limit range)."""
    name = f"readiness-{uuid.uuid4().hex[:8]}"
    await kube.ensure_namespace(name, {"storeplane.io/test": "readiness"})
    await kube.ensure_limit_range(name)
    yield name
    await kube.core.delete_namespace(name)


def pod_template(app: str, cpu: str, *, restart: str = "Always", node: str | None = None) -> client.V1PodTemplateSpec:
    """A pod admitted under the restricted Pod Security Standard, requesting `cpu`."""
    resources = {"cpu": cpu, "memory": "64Mi"}
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": app}),
        spec=client.V1PodSpec(
            restart_policy=restart,
            node_selector={"kubernetes.io/hostname": node} if node else None,
            security_context=client.V1PodSecurityContext(
                run_as_non_root=True, run_as_user=1000, seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault")
            ),
            containers=[
                client.V1Container(
                    name=app,
                    image="registry.invalid/app:1",
                    resources=client.V1ResourceRequirements(requests=resources, limits=resources),
                    security_context=client.V1SecurityContext(
                        allow_privilege_escalation=False, capabilities=client.V1Capabilities(drop=["ALL"])
                    ),
                )
            ],
        ),
    )


def statefulset(name: str, cpu: str, claim_class: str | None = None) -> client.V1StatefulSet:
    template = pod_template(name, cpu)
    claims = None
    if claim_class:
        claims = [
            client.V1PersistentVolumeClaim(
                metadata=client.V1ObjectMeta(name="data"),
                spec=client.V1PersistentVolumeClaimSpec(
                    access_modes=["ReadWriteOnce"],
                    storage_class_name=claim_class,
                    resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"}),
                ),
            )
        ]
        template.spec.containers[0].volume_mounts = [client.V1VolumeMount(name="data", mount_path="/data")]
    return client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1StatefulSetSpec(
            replicas=1,
            service_name=name,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=template,
            volume_claim_templates=claims,
        ),
    )


def job(name: str, cpu: str, *, node: str | None = None) -> client.V1Job:
    return client.V1Job(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1JobSpec(backoff_limit=0, template=pod_template(name, cpu, restart="Never", node=node)),
    )


async def fails_at_once(kube: KubernetesCluster, namespace: str) -> PermanentError:
    started = time.monotonic()
    with pytest.raises(PermanentError) as failed:
        await kube.wait_workloads_ready(namespace, deadline=time.time() + DEADLINE_SECONDS, heartbeat=no_heartbeat)
    assert time.monotonic() - started < QUICK_SECONDS
    return failed.value


async def test_a_statefulset_the_quota_refuses_fails_readiness_at_once(kube: KubernetesCluster, namespace: str) -> None:
    await kube.ensure_resource_quota(namespace, {"requests.cpu": "300m"})
    web = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=pod_template("web", "100m"),
        ),
    )
    await kube.apps.create_namespaced_deployment(namespace, web)  # fits the quota
    await kube.apps.create_namespaced_stateful_set(namespace, statefulset("db", "1"))  # does not

    failure = await fails_at_once(kube, namespace)

    assert (failure.step, failure.reason) == ("readiness", "quota_exceeded")
    assert failure.message.startswith("StatefulSet/db: ") and "exceeded quota: store-quota" in failure.message
    assert "Deployment/" not in failure.message


async def test_a_job_the_quota_refuses_fails_readiness_at_once(kube: KubernetesCluster, namespace: str) -> None:
    await kube.ensure_resource_quota(namespace, {"requests.cpu": "300m"})
    await kube.batch.create_namespaced_job(namespace, job("setup", "1"))

    failure = await fails_at_once(kube, namespace)

    assert (failure.step, failure.reason) == ("readiness", "quota_exceeded")
    assert failure.message.startswith("Job/setup: ") and "exceeded quota: store-quota" in failure.message


async def test_a_failed_job_names_how_its_pod_ended(kube: KubernetesCluster, namespace: str) -> None:
    # No node runs the pod, so the test plays its kubelet and ends it as a failing container would.
    await kube.batch.create_namespaced_job(namespace, job("setup", "100m", node="no-such-node"))
    async with watch.Watch() as pods:
        async for change in pods.stream(
            kube.core.list_namespaced_pod, namespace, label_selector="job-name=setup", timeout_seconds=30
        ):
            pod = change["object"]
            break
    ended = {"terminated": {"exitCode": 1, "reason": "Error", "message": "the log's tail"}}
    status = {
        "phase": "Failed",
        "containerStatuses": [
            {"name": "setup", "image": "x", "imageID": "", "ready": False, "restartCount": 0, "state": ended}
        ],
    }
    await kube.core.patch_namespaced_pod_status(pod.metadata.name, namespace, {"status": status})

    failure = await fails_at_once(kube, namespace)

    assert (failure.step, failure.reason) == ("readiness", "workload_failed")
    assert failure.message.startswith("Job/setup failed: BackoffLimitExceeded")
    assert failure.message.endswith(f"; last failed Pod/{pod.metadata.name} container setup exited 1 (Error)")
    assert "the log's tail" not in failure.message  # a termination message may carry the container's output


async def test_a_claim_stuck_pending_says_why(kube: KubernetesCluster, namespace: str) -> None:
    await kube.apps.create_namespaced_stateful_set(namespace, statefulset("db", "100m", claim_class="no-such-class"))

    with pytest.raises(StepTimedOut) as late:
        await kube.wait_workloads_ready(namespace, deadline=time.time() + 8, heartbeat=no_heartbeat)

    assert "StatefulSet/db: 0/1 replicas ready" in late.value.message
    assert (
        'PersistentVolumeClaim/data-db-0: Pending: ProvisioningFailed: storageclass.storage.k8s.io "no-such-class" '
        "not found" in late.value.message
    )
