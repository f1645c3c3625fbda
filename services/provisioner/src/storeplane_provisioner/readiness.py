"""When a store's workloads count as ready, as pure functions over Kubernetes objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Workloads:
    """The workload objects of one namespace (kubernetes-asyncio models)."""

    deployments: list[Any]
    statefulsets: list[Any]
    jobs: list[Any]


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


def _job_state(obj: Any) -> tuple[str | None, str | None]:
    """(why it is not done yet, why it failed)."""
    name = f"Job/{obj.metadata.name}"
    for condition in obj.status.conditions or [] if obj.status else []:
        if condition.status != "True":
            continue
        if condition.type == "Complete":
            return None, None
        if condition.type == "Failed":
            return None, f"{name} failed: {condition.reason}: {condition.message or ''}".rstrip(": ")
    return f"{name}: not complete", None


def unready_workloads(workloads: Workloads) -> tuple[list[str], list[str]]:
    """(workloads not ready yet, workloads that failed for good)."""
    unready: list[str] = []
    failed: list[str] = []
    for deployment in workloads.deployments:
        if failure := _replica_failure("Deployment", deployment):
            failed.append(failure)
        elif reason := _replicas_ready("Deployment", deployment):
            unready.append(reason)
    for statefulset in workloads.statefulsets:
        if reason := _replicas_ready("StatefulSet", statefulset):
            unready.append(reason)
    for job in workloads.jobs:
        waiting, failure = _job_state(job)
        if waiting:
            unready.append(waiting)
        if failure:
            failed.append(failure)
    return unready, failed


# Waiting reasons that no amount of waiting fixes: the store fails at once with them.
FATAL_WAITING_REASONS = frozenset({"CreateContainerConfigError", "InvalidImageName", "ErrImageNeverPull"})


def pod_problems(pods: list[Any], claims: list[Any]) -> tuple[list[str], list[str]]:
    """(what Kubernetes says holds pods and claims back, the subset of those that is fatal).

    Each entry names the object and Kubernetes' own reason, e.g.
    `Pod/web-1 container wordpress: ImagePullBackOff: Back-off pulling image "wordpress:9"`.
    """
    problems: list[str] = []
    fatal: list[str] = []
    for pod in pods:
        name = f"Pod/{pod.metadata.name}"
        status = pod.status
        if status is None or (status.phase in ("Succeeded", "Running") and _pod_ready(pod)):
            continue
        for condition in status.conditions or []:
            if condition.type == "PodScheduled" and condition.status == "False":
                problems.append(f"{name}: {condition.reason}: {condition.message or ''}".rstrip(": "))
        for container in [*(status.init_container_statuses or []), *(status.container_statuses or [])]:
            waiting = container.state.waiting if container.state else None
            if waiting and waiting.reason and waiting.reason not in ("PodInitializing", "ContainerCreating"):
                entry = f"{name} container {container.name}: {waiting.reason}: {waiting.message or ''}".rstrip(": ")
                problems.append(entry)
                if waiting.reason in FATAL_WAITING_REASONS:
                    fatal.append(entry)
    for claim in claims:
        if claim.status is None or claim.status.phase != "Bound":
            phase = claim.status.phase if claim.status else "Pending"
            problems.append(f"PersistentVolumeClaim/{claim.metadata.name}: {phase}")
    return problems, fatal


def _pod_ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
