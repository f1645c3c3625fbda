"""What a namespace shows while a step runs long, as the findings of a `StepStalled`.

`readiness` explains a failure in one message at the deadline; a stall is reported while the step
still runs, to a user who reads a timeline, so each finding is structured (kind, object, Kubernetes'
reason, its message) and there are few of them: pods that cannot be scheduled or whose containers
wait, claims not bound (with their latest event), and recent Warning events, the quota's refusals
first. Pure functions over kubernetes-asyncio models; no container output is ever quoted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from storeplane_contracts.events import StallFinding
from storeplane_provisioner.adapters.kubernetes.readiness import (
    Surroundings,
    is_permanent_refusal,
    last_seen,
    latest_event,
    pod_ready,
)

# Enough to act on, and a timeline entry stays small.
MAX_FINDINGS = 10
MAX_MESSAGE = 300
# Container waiting reasons of a pod that is merely starting.
_STARTING = frozenset({"PodInitializing", "ContainerCreating"})


def _finding(kind: str, obj: str, reason: str | None, message: str | None) -> StallFinding:
    return StallFinding(kind=kind, object=obj, reason=reason or "Unknown", message=(message or "")[:MAX_MESSAGE])


def _pod_findings(pod: Any) -> Iterator[StallFinding]:
    status = pod.status
    if status is None or (status.phase in ("Succeeded", "Running") and pod_ready(pod)):
        return
    name = f"Pod/{pod.metadata.name}"
    for condition in status.conditions or []:
        if condition.type == "PodScheduled" and condition.status == "False":
            yield _finding("pod_unschedulable", name, condition.reason, condition.message)
    for container in [*(status.init_container_statuses or []), *(status.container_statuses or [])]:
        waiting = container.state.waiting if container.state else None
        if waiting and waiting.reason and waiting.reason not in _STARTING:
            message = f"container {container.name}: {waiting.message or waiting.reason}"
            yield _finding("pod_waiting", name, waiting.reason, message)


def _claim_finding(claim: Any, events: Sequence[Any]) -> StallFinding | None:
    phase = claim.status.phase if claim.status else None
    if phase == "Bound":
        return None
    name = f"PersistentVolumeClaim/{claim.metadata.name}"
    event = latest_event(events, "PersistentVolumeClaim", claim)
    if event is None:
        return _finding("claim_unbound", name, phase or "Pending", "no volume bound yet")
    return _finding("claim_unbound", name, event.reason, event.message)


def _warnings(events: Sequence[Any], since: datetime, named: set[str]) -> list[StallFinding]:
    """The latest Warning event per (object, reason) seen since `since`, about an object not named yet;
    admission refusals (the quota, the limit range) first, then the most recent."""
    latest: dict[tuple[str, str], tuple[datetime, Any]] = {}
    for event in events:
        seen = last_seen(event)
        ref = event.involved_object
        if event.type != "Warning" or seen is None or seen < since or ref is None:
            continue
        key = (f"{ref.kind}/{ref.name}", event.reason or "")
        if key[0] not in named and (key not in latest or seen > latest[key][0]):
            latest[key] = (seen, event)

    def refused(event: Any) -> bool:
        return bool(event.reason == "FailedCreate" and is_permanent_refusal(event.message or ""))

    ordered = sorted(latest.items(), key=lambda item: (not refused(item[1][1]), -item[1][0].timestamp()))
    return [
        _finding("quota_refused" if refused(event) else "event_warning", obj, reason, event.message)
        for (obj, reason), (_, event) in ordered
    ]


def stall_findings(around: Surroundings, *, since: datetime) -> list[StallFinding]:
    """What holds the namespace back now: pods, unbound claims, then Warning events seen since `since`
    about other objects (a StatefulSet's `FailedCreate ... exceeded quota`), at most `MAX_FINDINGS`."""
    found = [finding for pod in around.pods for finding in _pod_findings(pod)]
    found += [f for claim in around.claims if (f := _claim_finding(claim, around.events)) is not None]
    found += _warnings(around.events, since, {finding.object for finding in found})
    return found[:MAX_FINDINGS]
