"""When a store's workloads count as ready, and why they are not, as pure functions over Kubernetes objects.

Kubernetes says why a workload is held back in three places: the workload's status (a Job's
`Failed` condition, a Deployment's `ReplicaFailure`), its pods and claims, and the Events that
controllers record. The last is the only place where a StatefulSet or a Job whose pods admission
refuses (the quota, the limit range, Pod Security) says so: it keeps retrying and never gets a pod.
Every message names the object and Kubernetes' own reason; none carries a container's output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Workloads:
    """The workload objects of one namespace (kubernetes-asyncio models)."""

    deployments: list[Any]
    statefulsets: list[Any]
    jobs: list[Any]


@dataclass(frozen=True)
class Surroundings:
    """What explains a workload that is not ready: the namespace's pods, claims and events."""

    pods: list[Any]
    claims: list[Any]
    events: list[Any]


# Admission refusals that stand until someone changes the quota, the limit range or the chart. Others
# pass by themselves (the quota's usage not computed yet just after it was created, the namespace's
# default ServiceAccount not created yet), so they only hold the workload back.
_PERMANENT_REFUSAL = re.compile(
    r"exceeded quota"  # ResourceQuota
    r"|failed quota: \S+: must specify"  # ResourceQuota, a container without requests or limits
    r"|(maximum|minimum) \S+ usage per|max limit to request ratio"  # LimitRange
    r"|violates PodSecurity"  # Pod Security admission
)

# A controller's refusal seen this long before a readiness wait began still counts as current: it
# may have come while the chart was being installed. An older one may predate a change to the quota.
RECENT = timedelta(minutes=1)


def is_permanent_refusal(message: str) -> bool:
    return _PERMANENT_REFUSAL.search(message) is not None


def _replicas_ready(kind: str, obj: Any) -> str | None:
    """None when ready, else why not."""
    name = f"{kind}/{obj.metadata.name}"
    wanted = obj.spec.replicas if obj.spec.replicas is not None else 1
    status = obj.status
    if status is None or (status.observed_generation or 0) < (obj.metadata.generation or 0):
        return f"{name}: not yet observed by its controller"
    ready = status.ready_replicas or 0
    updated = status.updated_replicas or 0
    if ready < wanted or updated < wanted:
        return f"{name}: {ready}/{wanted} replicas ready"
    return None


def _replica_failure(kind: str, obj: Any) -> str | None:
    """A controller that cannot create pods (quota, admission) says so in a ReplicaFailure condition."""
    for condition in (obj.status.conditions or []) if obj.status else []:
        if condition.type == "ReplicaFailure" and condition.status == "True":
            return f"{kind}/{obj.metadata.name}: {condition.message or condition.reason}"
    return None


def _job_state(obj: Any) -> tuple[str | None, Any]:
    """(why it is not done yet, its Failed condition)."""
    for condition in obj.status.conditions or [] if obj.status else []:
        if condition.status != "True":
            continue
        if condition.type == "Complete":
            return None, None
        if condition.type == "Failed":
            return None, condition
    return f"Job/{obj.metadata.name}: not complete", None


def _owned_by(pod: Any, kind: str, obj: Any) -> bool:
    return any(
        ref.kind == kind and ref.name == obj.metadata.name and (not obj.metadata.uid or ref.uid == obj.metadata.uid)
        for ref in pod.metadata.owner_references or []
    )


def _how_it_ended(pod: Any) -> tuple[datetime | None, str] | None:
    """(when, how) the pod's failing container ended, e.g. `container wp-cli exited 1 (Error)`.

    The container's termination message is left out: it may be the tail of its log.
    """
    status = pod.status
    if status is None:
        return None
    for container in [*(status.init_container_statuses or []), *(status.container_statuses or [])]:
        for state in (container.state, container.last_state):
            ended = state.terminated if state else None
            if ended and ended.exit_code:
                how = f"container {container.name} exited {ended.exit_code}"
                return ended.finished_at, f"{how} ({ended.reason})" if ended.reason else how
    if status.phase == "Failed" and status.reason:  # e.g. DeadlineExceeded, Evicted
        return None, status.reason
    return None


def _last_failed_pod(job: Any, pods: Sequence[Any]) -> str | None:
    """`Pod/<name> container <c> exited <code> (<reason>)` for the job's pod that failed last."""
    ended: list[tuple[float, str, str]] = []
    for pod in pods:
        if _owned_by(pod, "Job", job) and (end := _how_it_ended(pod)):
            when = end[0] or pod.metadata.creation_timestamp
            ended.append((when.timestamp() if when else 0.0, pod.metadata.name, end[1]))
    if not ended:
        return None
    _, name, how = max(ended)
    return f"Pod/{name} {how}" if how.startswith("container ") else f"Pod/{name}: {how}"


def _job_failure(job: Any, condition: Any, pods: Sequence[Any]) -> str:
    """`Job/setup failed: BackoffLimitExceeded: <message>; last failed Pod/setup-x container wp exited 1 (Error)`."""
    failure = f"Job/{job.metadata.name} failed: {condition.reason}: {condition.message or ''}".rstrip(": ")
    if pod := _last_failed_pod(job, pods):
        failure += f"; last failed {pod}"
    return failure


def unready_workloads(workloads: Workloads, pods: Sequence[Any] = ()) -> tuple[list[str], list[str]]:
    """(workloads not ready yet, workloads that failed for good); `pods` explain a failed Job."""
    unready: list[str] = []
    failed: list[str] = []
    for deployment in workloads.deployments:
        refused = _replica_failure("Deployment", deployment)
        if refused and is_permanent_refusal(refused):
            failed.append(refused)
        elif reason := _replicas_ready("Deployment", deployment):
            unready.append(refused or reason)
    for statefulset in workloads.statefulsets:
        if reason := _replicas_ready("StatefulSet", statefulset):
            unready.append(reason)
    for job in workloads.jobs:
        waiting, failed_condition = _job_state(job)
        if waiting:
            unready.append(waiting)
        if failed_condition:
            failed.append(_job_failure(job, failed_condition, pods))
    return unready, failed


def last_seen(event: Any) -> datetime | None:
    """When the event last happened, whichever of the core and events.k8s.io fields recorded it."""
    series = event.series
    return (
        (series.last_observed_time if series else None)
        or event.last_timestamp
        or event.event_time
        or event.first_timestamp
        or (event.metadata.creation_timestamp if event.metadata else None)
    )


def about(event: Any, kind: str, obj: Any) -> bool:
    ref = event.involved_object
    return (
        ref is not None
        and ref.kind == kind
        and ref.name == obj.metadata.name
        and (not ref.uid or not obj.metadata.uid or ref.uid == obj.metadata.uid)
    )


def refusals(workloads: Workloads, events: Sequence[Any], *, since: datetime | None = None) -> list[str]:
    """Unready StatefulSets and Jobs whose pods admission refuses for good (quota, limit range, Pod Security).

    Their controllers report that only as a Warning Event `FailedCreate`, e.g. `StatefulSet/db: create Pod
    db-0 in StatefulSet db failed error: pods "db-0" is forbidden: exceeded quota: ...`. A refusal counts
    while it is the object's latest create outcome (no `SuccessfulCreate` after it) and, given `since`,
    was last seen at or after `since`.
    """
    waiting = [("StatefulSet", s) for s in workloads.statefulsets if _replicas_ready("StatefulSet", s)]
    waiting += [("Job", j) for j in workloads.jobs if _job_state(j)[0]]
    found: list[str] = []
    for kind, obj in waiting:
        refused: tuple[datetime, str] | None = None
        created: datetime | None = None
        for event in events:
            seen = last_seen(event)
            if seen is None or not about(event, kind, obj):
                continue
            if event.reason == "SuccessfulCreate":
                created = max(created or seen, seen)
            elif (
                event.reason == "FailedCreate"
                and event.type == "Warning"
                and is_permanent_refusal(event.message or "")
                and (refused is None or seen > refused[0])
            ):
                refused = (seen, event.message)
        if refused is None or (since is not None and refused[0] < since) or (created and created > refused[0]):
            continue
        found.append(f"{kind}/{obj.metadata.name}: {refused[1]}")
    return found


# Waiting reasons that no amount of waiting fixes: the store fails at once with them.
FATAL_WAITING_REASONS = frozenset({"CreateContainerConfigError", "InvalidImageName", "ErrImageNeverPull"})


def latest_event(events: Sequence[Any], kind: str, obj: Any) -> Any | None:
    """The object's latest Warning event, else its latest event of any type."""
    mine = [(seen, e) for e in events if about(e, kind, obj) and (seen := last_seen(e)) is not None]
    latest = max([m for m in mine if m[1].type == "Warning"] or mine, key=lambda m: m[0], default=None)
    return latest[1] if latest else None


def pod_problems(pods: list[Any], claims: list[Any], events: Sequence[Any] = ()) -> tuple[list[str], list[str]]:
    """(what Kubernetes says holds pods and claims back, the subset of those that is fatal).

    Each entry names the object and Kubernetes' own reason, e.g.
    `Pod/web-1 container wordpress: ImagePullBackOff: Back-off pulling image "wordpress:9"` or
    `PersistentVolumeClaim/data-db-0: Pending: ProvisioningFailed: storageclass.storage.k8s.io "fast" not found`.
    """
    problems: list[str] = []
    fatal: list[str] = []
    for pod in pods:
        held, fatal_here = _held_pod(pod)
        problems += held
        fatal += fatal_here
    problems += [
        _unbound_claim(claim, events) for claim in claims if claim.status is None or claim.status.phase != "Bound"
    ]
    return problems, fatal


def _held_pod(pod: Any) -> tuple[list[str], list[str]]:
    """(what holds one pod back: unschedulable, containers waiting; the fatal subset)."""
    name = f"Pod/{pod.metadata.name}"
    status = pod.status
    if status is None or (status.phase in ("Succeeded", "Running") and pod_ready(pod)):
        return [], []
    problems = [
        f"{name}: {condition.reason}: {condition.message or ''}".rstrip(": ")
        for condition in status.conditions or []
        if condition.type == "PodScheduled" and condition.status == "False"
    ]
    fatal: list[str] = []
    for container in [*(status.init_container_statuses or []), *(status.container_statuses or [])]:
        waiting = container.state.waiting if container.state else None
        if waiting and waiting.reason and waiting.reason not in ("PodInitializing", "ContainerCreating"):
            entry = f"{name} container {container.name}: {waiting.reason}: {waiting.message or ''}".rstrip(": ")
            problems.append(entry)
            if waiting.reason in FATAL_WAITING_REASONS:
                fatal.append(entry)
    return problems, fatal


def _unbound_claim(claim: Any, events: Sequence[Any]) -> str:
    entry = f"PersistentVolumeClaim/{claim.metadata.name}: {claim.status.phase if claim.status else 'Pending'}"
    if event := latest_event(events, "PersistentVolumeClaim", claim):
        entry = f"{entry}: {event.reason}: {event.message or ''}".rstrip(": ")
    return entry


def fatal_problems(workloads: Workloads, around: Surroundings, *, since: datetime) -> list[str]:
    """What fails the store at once: failed workloads, refusals seen since `since`, pods that cannot start."""
    _, failed = unready_workloads(workloads, around.pods)
    refused = refusals(workloads, around.events, since=since)
    return [*failed, *refused, *pod_problems(around.pods, around.claims, around.events)[1]]


def held_back(workloads: Workloads, around: Surroundings) -> list[str]:
    """Everything that keeps the workloads from being ready, for a store that ran out of time."""
    unready, failed = unready_workloads(workloads, around.pods)
    problems, _ = pod_problems(around.pods, around.claims, around.events)
    return [*failed, *unready, *refusals(workloads, around.events), *problems]


def pod_ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
