"""When workloads count as ready, failed, or still waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes_asyncio import client

from storeplane_provisioner.adapters.kubernetes.readiness import (
    Surroundings,
    Workloads,
    fatal_problems,
    held_back,
    pod_problems,
    refusals,
    unready_workloads,
)


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


def container(name: str, state: client.V1ContainerState) -> client.V1ContainerStatus:
    """A container that is not ready, in `state`."""
    return client.V1ContainerStatus(
        name=name, image=f"{name}:1", image_id="", ready=False, restart_count=0, state=state
    )


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
            container(
                "app",
                client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason=waiting, message="details")),
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


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
QUOTA = (
    "is forbidden: exceeded quota: store-quota, requested: requests.cpu=1, used: requests.cpu=0, "
    "limited: requests.cpu=200m"
)


def statefulset(name: str, *, ready: int = 0) -> client.V1StatefulSet:
    return client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name=name, generation=1, uid=f"uid-{name}"),
        spec=client.V1StatefulSetSpec(
            replicas=1, selector=client.V1LabelSelector(), service_name=name, template=client.V1PodTemplateSpec()
        ),
        status=client.V1StatefulSetStatus(
            observed_generation=1, replicas=0, ready_replicas=ready, updated_replicas=ready
        ),
    )


def event(
    kind: str,
    name: str,
    reason: str,
    message: str,
    *,
    seconds_ago: float | None = 0,
    type_: str = "Warning",
    uid: str | None = None,
) -> client.CoreV1Event:
    return client.CoreV1Event(
        metadata=client.V1ObjectMeta(name=f"{name}.{reason}"),
        involved_object=client.V1ObjectReference(kind=kind, name=name, uid=uid),
        reason=reason,
        message=message,
        type=type_,
        # None: recorded through events.k8s.io/v1, which fills in eventTime and series instead.
        last_timestamp=None if seconds_ago is None else NOW - timedelta(seconds=seconds_ago),
    )


def around(
    *, pods: list[Any] | None = None, claims: list[Any] | None = None, events: list[Any] | None = None
) -> Surroundings:
    return Surroundings(pods or [], claims or [], events or [])


SINCE = NOW - timedelta(minutes=1)


def test_a_statefulset_and_a_job_the_quota_refuses_fail_at_once_with_the_controllers_message() -> None:
    workloads = Workloads([deployment("web")], [statefulset("db")], [job("setup", None)])
    events = [
        event(
            "StatefulSet", "db", "FailedCreate", f'create Pod db-0 in StatefulSet db failed error: pods "db-0" {QUOTA}'
        ),
        event("Job", "setup", "FailedCreate", f'Error creating: pods "setup-x1" {QUOTA}', seconds_ago=5),
        event("Deployment", "web", "ScalingReplicaSet", "Scaled up replica set web-1 from 0 to 1", type_="Normal"),
    ]
    assert fatal_problems(workloads, around(events=events), since=SINCE) == [
        f'StatefulSet/db: create Pod db-0 in StatefulSet db failed error: pods "db-0" {QUOTA}',
        f'Job/setup: Error creating: pods "setup-x1" {QUOTA}',
    ]


def test_limit_range_and_pod_security_refusals_are_fatal_too() -> None:
    refused = [
        'pods "db-0" is forbidden: maximum cpu usage per Container is 2, but limit is 4',
        'pods "db-0" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true',
        'pods "db-0" is forbidden: failed quota: store-quota: must specify limits.cpu for: mysql',
    ]
    for message in refused:
        events = [event("StatefulSet", "db", "FailedCreate", message)]
        assert refusals(Workloads([], [statefulset("db")], []), events, since=SINCE) == [f"StatefulSet/db: {message}"]


def test_refusals_that_pass_by_themselves_or_no_longer_hold_are_not_fatal() -> None:
    workloads = Workloads([], [statefulset("db"), statefulset("cache"), statefulset("old")], [])
    events = [
        # The quota's usage is not computed yet just after it was created: the controller retries.
        event("StatefulSet", "db", "FailedCreate", 'pods "db-0" is forbidden: status unknown for quota: store-quota'),
        # Refused, then created once the quota was raised.
        event("StatefulSet", "cache", "FailedCreate", f'pods "cache-0" {QUOTA}', seconds_ago=20),
        event(
            "StatefulSet",
            "cache",
            "SuccessfulCreate",
            "create Pod cache-0 in StatefulSet cache successful",
            type_="Normal",
        ),
        # Refused long before this wait began: the quota may have changed since.
        event("StatefulSet", "old", "FailedCreate", f'pods "old-0" {QUOTA}', seconds_ago=600),
    ]
    assert refusals(workloads, events, since=SINCE) == []
    # A store out of time still says what was refused last.
    assert f'StatefulSet/old: pods "old-0" {QUOTA}' in held_back(workloads, around(events=events))


def test_a_refusal_recorded_through_the_events_api_counts_from_its_last_occurrence() -> None:
    recorded = event("StatefulSet", "db", "FailedCreate", f'pods "db-0" {QUOTA}', seconds_ago=None)
    recorded.event_time = NOW - timedelta(minutes=10)
    recorded.series = client.CoreV1EventSeries(count=12, last_observed_time=NOW)
    assert refusals(Workloads([], [statefulset("db")], []), [recorded], since=SINCE) == [
        f'StatefulSet/db: pods "db-0" {QUOTA}'
    ]


def test_a_refusal_of_a_ready_or_other_object_does_not_count() -> None:
    events = [
        event("StatefulSet", "db", "FailedCreate", f'pods "db-0" {QUOTA}'),
        event("StatefulSet", "cache", "FailedCreate", f'pods "cache-0" {QUOTA}', uid="uid-of-an-earlier-cache"),
    ]
    ready_db = statefulset("db", ready=1)
    assert refusals(Workloads([], [ready_db, statefulset("cache")], []), events, since=SINCE) == []


def test_a_deployment_refusal_that_passes_by_itself_only_holds_it_back() -> None:
    message = (
        'pods "web-1" is forbidden: error looking up service account s/default: serviceaccount "default" not found'
    )
    unready, failed = unready_workloads(Workloads([deployment("web", ready=0, failure=message)], [], []))
    assert (unready, failed) == ([f"Deployment/web: {message}"], [])


def failed_job_pod(
    name: str, *, exit_code: int, reason: str, finished: datetime, job_name: str = "setup"
) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(
            name=name,
            owner_references=[client.V1OwnerReference(api_version="batch/v1", kind="Job", name=job_name, uid="")],
        ),
        status=client.V1PodStatus(
            phase="Failed",
            container_statuses=[
                container(
                    "wp-cli",
                    client.V1ContainerState(
                        terminated=client.V1ContainerStateTerminated(
                            exit_code=exit_code,
                            reason=reason,
                            finished_at=finished,
                            message="Error: admin_password=hunter2 rejected",  # the log's tail: never reported
                        )
                    ),
                )
            ],
        ),
    )


def test_a_failed_job_names_how_its_last_pod_ended() -> None:
    failed_job = job("setup", "Failed")
    failed_job.status.conditions[0].message = "Job has reached the specified backoff limit"
    pods = [
        failed_job_pod("setup-ab12", exit_code=1, reason="Error", finished=NOW),
        failed_job_pod("setup-cd34", exit_code=137, reason="OOMKilled", finished=NOW - timedelta(minutes=1)),
        failed_job_pod("other-ef56", exit_code=2, reason="Error", finished=NOW, job_name="other"),
    ]
    _, failed = unready_workloads(Workloads([], [], [failed_job]), pods)
    assert failed == [
        "Job/setup failed: BackoffLimitExceeded: Job has reached the specified backoff limit; "
        "last failed Pod/setup-ab12 container wp-cli exited 1 (Error)"
    ]
    assert "hunter2" not in fatal_problems(Workloads([], [], [failed_job]), around(pods=pods), since=SINCE)[0]


def test_a_pending_claim_says_why_from_its_events() -> None:
    claims = [
        client.V1PersistentVolumeClaim(
            metadata=client.V1ObjectMeta(name=name), status=client.V1PersistentVolumeClaimStatus(phase="Pending")
        )
        for name in ("data-db-0", "uploads", "quiet")
    ]
    events = [
        event(
            "PersistentVolumeClaim",
            "data-db-0",
            "ProvisioningFailed",
            'storageclass.storage.k8s.io "fast" not found',
            seconds_ago=3,
        ),
        # A later Normal event does not hide the Warning.
        event("PersistentVolumeClaim", "data-db-0", "ExternalProvisioning", "Waiting for a volume", type_="Normal"),
        event("PersistentVolumeClaim", "uploads", "WaitForFirstConsumer", "waiting for first consumer", type_="Normal"),
    ]
    problems, fatal = pod_problems([], claims, events)
    assert problems == [
        'PersistentVolumeClaim/data-db-0: Pending: ProvisioningFailed: storageclass.storage.k8s.io "fast" not found',
        "PersistentVolumeClaim/uploads: Pending: WaitForFirstConsumer: waiting for first consumer",
        "PersistentVolumeClaim/quiet: Pending",
    ]
    assert fatal == []
