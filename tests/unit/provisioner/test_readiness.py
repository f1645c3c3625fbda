"""When workloads count as ready, failed, or still waiting."""

from __future__ import annotations

from kubernetes_asyncio import client

from storeplane_provisioner.readiness import Workloads, pod_problems, unready_workloads


def deployment(name: str, *, replicas: int = 1, ready: int = 1, failure: str | None = None) -> client.V1Deployment:
    conditions = (
        [client.V1DeploymentCondition(type="ReplicaFailure", status="True", message=failure)] if failure else []
    )
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, generation=1),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(), template=client.V1PodTemplateSpec()
        ),
        status=client.V1DeploymentStatus(
            observed_generation=1, ready_replicas=ready, updated_replicas=ready, conditions=conditions
        ),
    )


def job(name: str, condition: str | None) -> client.V1Job:
    conditions = (
        [client.V1JobCondition(type=condition, status="True", reason="BackoffLimitExceeded")] if condition else []
    )
    return client.V1Job(metadata=client.V1ObjectMeta(name=name), status=client.V1JobStatus(conditions=conditions))


def test_all_ready() -> None:
    assert unready_workloads(Workloads([deployment("web")], [], [job("setup", "Complete")])) == ([], [])


def test_waiting_replicas_and_jobs_are_named() -> None:
    unready, failed = unready_workloads(Workloads([deployment("web", replicas=2, ready=1)], [], [job("setup", None)]))
    assert unready == ["Deployment/web: 1/2 replicas ready", "Job/setup: not complete"]
    assert failed == []


def test_quota_refusal_and_failed_job_are_failures() -> None:
    _, failed = unready_workloads(
        Workloads(
            [deployment("web", ready=0, failure='pods "web-1" is forbidden: exceeded quota: store-quota')],
            [],
            [job("setup", "Failed")],
        )
    )
    assert failed[0].startswith("Deployment/web: pods") and "exceeded quota" in failed[0]
    assert failed[1].startswith("Job/setup failed: BackoffLimitExceeded")


def test_a_change_not_yet_observed_is_not_ready() -> None:
    stale = deployment("web")
    stale.metadata.generation = 2
    assert unready_workloads(Workloads([stale], [], []))[0] == ["Deployment/web: not yet observed by its controller"]


def pod(name: str, *, waiting: str | None = None, unschedulable: bool = False) -> client.V1Pod:
    conditions = [client.V1PodCondition(type="Ready", status="False")]
    if unschedulable:
        conditions.append(
            client.V1PodCondition(
                type="PodScheduled", status="False", reason="Unschedulable", message="0/3 nodes are available"
            )
        )
    statuses = (
        [
            client.V1ContainerStatus(
                name="app",
                image="shop:1",
                image_id="",
                ready=False,
                restart_count=0,
                state=client.V1ContainerState(
                    waiting=client.V1ContainerStateWaiting(reason=waiting, message="details")
                ),
            )
        ]
        if waiting
        else []
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        status=client.V1PodStatus(phase="Pending", conditions=conditions, container_statuses=statuses),
    )


def test_pod_problems_name_the_object_and_the_kubernetes_reason() -> None:
    claim = client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name="data-db-0"), status=client.V1PersistentVolumeClaimStatus(phase="Pending")
    )
    problems, fatal = pod_problems(
        [
            pod("web-1", waiting="ImagePullBackOff"),
            pod("db-0", unschedulable=True),
            pod("api-1", waiting="CreateContainerConfigError"),
        ],
        [claim],
    )
    assert problems == [
        "Pod/web-1 container app: ImagePullBackOff: details",
        "Pod/db-0: Unschedulable: 0/3 nodes are available",
        "Pod/api-1 container app: CreateContainerConfigError: details",
        "PersistentVolumeClaim/data-db-0: Pending",
    ]
    assert fatal == ["Pod/api-1 container app: CreateContainerConfigError: details"]
