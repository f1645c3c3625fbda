"""StepStalled: the threshold, the findings read from Kubernetes objects, and the watchdog beside a step.

Time is a `FakeClock`, as in test_deadlines: the watchdog's sleep and the heartbeat make it pass, so a
step that hangs stalls (and then runs into its deadline) without the test waiting.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from kubernetes_asyncio import client

from storeplane_contracts import events
from storeplane_provisioner.adapters.kubernetes.stalls import MAX_FINDINGS, MAX_MESSAGE, stall_findings
from storeplane_provisioner.provisioning.deadlines import step_seconds
from storeplane_provisioner.provisioning.processing import Dependencies, Outcome
from storeplane_provisioner.provisioning.stalls import Stalls, threshold

from .fakes import FakeClock, FakeCluster, FakeHelm, Recorder
from .test_processing import CONFIG, request, run
from .test_readiness import NOW, QUOTA, around, event, pod

CLAIM_NOT_FOUND = 'storageclass.storage.k8s.io "no-such-class" not found'


def test_the_threshold_is_three_times_the_p95_but_never_below_the_floor() -> None:
    assert threshold(None, 60) == 60  # no figures yet: the floor alone
    assert threshold(10, 60) == 60
    assert threshold(40, 60) == 120


def claim(name: str, phase: str = "Pending") -> client.V1PersistentVolumeClaim:
    return client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=name), status=client.V1PersistentVolumeClaimStatus(phase=phase)
    )


def test_findings_name_each_object_with_kubernetes_reason() -> None:
    ready = pod("web-0")
    ready.status.phase = "Running"
    ready.status.conditions = [client.V1PodCondition(type="Ready", status="True")]
    shown = around(
        pods=[pod("web-1", waiting="ImagePullBackOff"), pod("db-0", unschedulable=True), ready],
        claims=[claim("data-db-0"), claim("data-cache-0"), claim("bound", "Bound")],
        events=[
            event("PersistentVolumeClaim", "data-db-0", "ProvisioningFailed", CLAIM_NOT_FOUND),
            event("StatefulSet", "cache", "FailedCreate", f'create Pod cache-0 failed error: pods "cache-0" {QUOTA}'),
            event("Pod", "web-1", "Failed", "Error: ImagePullBackOff"),  # the pod is named already
            event("Deployment", "api", "FailedCreate", "old news", seconds_ago=600),  # before `since`
            event("ReplicaSet", "api-1", "FailedMount", "MountVolume.SetUp failed", seconds_ago=5),
            event("Pod", "api-1-x", "Scheduled", "assigned", type_="Normal"),
        ],
    )

    found = stall_findings(shown, since=NOW - timedelta(minutes=2))

    assert [(f.kind, f.object, f.reason) for f in found] == [
        ("pod_waiting", "Pod/web-1", "ImagePullBackOff"),
        ("pod_unschedulable", "Pod/db-0", "Unschedulable"),
        ("claim_unbound", "PersistentVolumeClaim/data-db-0", "ProvisioningFailed"),
        ("claim_unbound", "PersistentVolumeClaim/data-cache-0", "Pending"),
        ("quota_refused", "StatefulSet/cache", "FailedCreate"),
        ("event_warning", "ReplicaSet/api-1", "FailedMount"),
    ]
    assert found[0].message == "container app: details"
    assert found[1].message == "0/3 nodes are available"
    assert found[2].message == CLAIM_NOT_FOUND
    assert "exceeded quota: store-quota" in found[4].message


def test_findings_are_few_and_short() -> None:
    shown = around(events=[event("Pod", f"p-{n}", "BackOff", "x" * 5_000, seconds_ago=n) for n in range(30)])
    found = stall_findings(shown, since=NOW - timedelta(minutes=2))
    assert len(found) == MAX_FINDINGS
    assert found[0].object == "Pod/p-0"  # the most recent first
    assert {len(f.message) for f in found} == {MAX_MESSAGE}


def test_a_healthy_namespace_shows_nothing() -> None:
    assert stall_findings(around(claims=[claim("data", "Bound")]), since=NOW) == []


class Figures:
    """p95s by (engine, step); `broken` makes every read fail, like a status service that is away."""

    def __init__(self, p95: dict[tuple[str, str], float] | None = None, *, broken: bool = False) -> None:
        self.p95 = p95 or {}
        self.broken = broken

    async def p95_seconds(self, engine: str, step: str) -> float | None:
        if self.broken:
            raise TimeoutError("nobody answered")
        return self.p95.get((engine, step))


FINDING = events.StallFinding(
    kind="claim_unbound", object="PersistentVolumeClaim/data-db-0", reason="ProvisioningFailed", message="m"
)


def watched(figures: Figures, *, floor: float = 60.0, readiness: float = 600.0) -> Dependencies:
    """Provisioning whose readiness wait hangs (its namespace shows FINDING), watched for stalls."""
    cluster, recorder = FakeCluster(), Recorder()
    cluster.hang.add("readiness")
    cluster.findings["store-shop-0b4c43f4"] = [FINDING]
    config = dataclasses.replace(CONFIG, step_seconds=step_seconds({"readiness": readiness}))
    stalls = Stalls(figures=figures, publish=recorder, floor_seconds=floor)
    return Dependencies(
        cluster=cluster,
        helm=FakeHelm(),
        publish=recorder,
        config=config,
        max_attempts=3,
        clock=FakeClock(),
        stalls=stalls,
    )


def notes(deps: Dependencies) -> list[events.StepStalled]:
    assert isinstance(deps.publish, Recorder)
    return [e for e in deps.publish.events if isinstance(e, events.StepStalled)]


async def test_a_step_past_its_threshold_is_noted_once_with_what_the_namespace_shows_before_its_deadline() -> None:
    deps = watched(Figures({("woocommerce", "readiness"): 40.0}))

    assert await run(deps, request(), attempt=1) is Outcome.RETRY

    [note] = notes(deps)
    assert (note.step, note.threshold_seconds, note.findings) == ("readiness", 120.0, [FINDING])
    assert note.running_for_seconds >= 120.0
    assert (note.store_id, note.owner_id) == (request().store_id, request().owner_id)
    assert isinstance(deps.publish, Recorder)
    types = deps.publish.types
    # Noted while the step ran (after the chart, before the deadline's retry); the status is not touched.
    assert types.index("ChartInstalled") < types.index("StepStalled") < types.index("StepRetrying")


async def test_each_attempt_may_stall_once_and_the_floor_stands_in_for_missing_figures() -> None:
    deps = watched(Figures(broken=True), floor=30.0)

    await run(deps, request(), attempt=1)
    await run(deps, request(), attempt=1)  # a redelivered attempt: the same note, dropped as a duplicate
    await run(deps, request(), attempt=2)

    assert [(n.threshold_seconds, n.step) for n in notes(deps)] == [(30.0, "readiness"), (30.0, "readiness")]
    assert len({n.event_id for n in notes(deps)}) == 2


async def test_nothing_is_noted_when_a_step_ends_in_time_or_without_a_floor() -> None:
    deps = watched(Figures(), floor=700.0)  # past the readiness deadline: the deadline reports instead
    assert await run(deps, request()) is Outcome.RETRY
    assert notes(deps) == []

    off = watched(Figures(), floor=0)
    assert await run(off, request()) is Outcome.RETRY
    assert notes(off) == []

    quick = watched(Figures(), floor=1)
    assert isinstance(quick.cluster, FakeCluster)
    quick.cluster.hang.clear()
    assert await run(quick, request()) is Outcome.ACK
    assert notes(quick) == []


async def test_findings_that_cannot_be_read_leave_a_note_without_them() -> None:
    deps = watched(Figures(), floor=30.0)
    assert isinstance(deps.cluster, FakeCluster)
    deps.cluster.fail["stall_findings"] = OSError("connection refused")

    assert await run(deps, request()) is Outcome.RETRY  # the deadline's retry, as without a watchdog

    [note] = notes(deps)
    assert (note.threshold_seconds, note.findings) == (30.0, [])


async def test_a_note_that_cannot_be_published_never_fails_the_step() -> None:
    deps = watched(Figures(), floor=30.0)
    refused: list[events.Event] = []

    async def bus_away(event: events.Event) -> int:
        refused.append(event)
        raise OSError("no bus")

    assert deps.stalls is not None
    deps = dataclasses.replace(deps, stalls=dataclasses.replace(deps.stalls, publish=bus_away))

    assert await run(deps, request()) is Outcome.RETRY

    assert [type(e).__name__ for e in refused] == ["StepStalled"]
    assert notes(deps) == []
