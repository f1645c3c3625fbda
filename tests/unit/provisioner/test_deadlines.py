"""Per-step deadlines and the provisioning's overall one, and the timeline note of a retry.

Time is a `FakeClock`: it passes while the command's heartbeat sleeps, so a step that hangs runs
into its deadline at once, without the test waiting for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import msgspec
import pytest
from pydantic import ValidationError

from storeplane_contracts import events
from storeplane_provisioner.errors import PermanentError, StepTimedOut
from storeplane_provisioner.provisioning import deadlines
from storeplane_provisioner.provisioning.deadlines import bounded, step_seconds
from storeplane_provisioner.provisioning.processing import Dependencies, Outcome, process_command
from storeplane_provisioner.provisioning.steps import DEFAULT_STEP_SECONDS
from storeplane_provisioner.settings import ProvisionerSettings

from .fakes import FakeClock, FakeCluster, FakeHelm, Recorder
from .test_processing import CONFIG, request, run


def quick(**seconds: float) -> Dependencies:
    config = dataclasses.replace(CONFIG, step_seconds=step_seconds(seconds))
    return Dependencies(
        cluster=FakeCluster(), helm=FakeHelm(), publish=Recorder(), config=config, max_attempts=3, clock=FakeClock()
    )


async def test_a_step_past_its_own_deadline_is_retried_and_the_timeline_says_why() -> None:
    deps = quick(quota=0.05)
    cluster, recorder = deps.cluster, deps.publish
    assert isinstance(cluster, FakeCluster) and isinstance(recorder, Recorder)
    cluster.hang.add("quota")

    assert await run(deps, request(), attempt=1) is Outcome.RETRY

    note = recorder.events[-1]
    assert isinstance(note, events.StepRetrying)
    assert (note.step, note.reason, note.attempt, note.max_attempts) == ("quota", "timeout", 1, 3)
    assert "quota did not finish within 0.05s" in note.message
    assert note.retry_in_seconds >= 0
    assert "QuotaApplied" not in recorder.types


async def test_the_step_that_runs_into_the_overall_deadline_fails_the_store() -> None:
    deps = quick()
    cluster, recorder = deps.cluster, deps.publish
    assert isinstance(cluster, FakeCluster) and isinstance(recorder, Recorder)
    cluster.hang.add("quota")
    # Requested 899.9 s ago with a 900 s deadline: the quota step has a tenth of a second left.
    requested = deps.clock.time() - 899.9
    late = msgspec.structs.replace(request(), occurred_at=datetime.fromtimestamp(requested, UTC))

    assert await run(deps, late) is Outcome.ACK

    failure = recorder.events[-1]
    assert isinstance(failure, events.ProvisioningFailed)
    assert (failure.step, failure.reason, failure.retryable) == ("quota", "timeout", False)
    assert "deadline has passed" in failure.message


async def test_a_wait_that_reports_its_own_lateness_keeps_its_message() -> None:
    with pytest.raises(StepTimedOut) as retried:
        async with bounded("readiness", 60):
            raise StepTimedOut("readiness", "timeout", "not ready before the deadline: Deployment/web 0/1")
    assert retried.value.message == "not ready before the deadline: Deployment/web 0/1"

    clock = FakeClock()
    with pytest.raises(PermanentError) as failed:
        async with bounded("readiness", 60, overall=clock.time() - 1, clock=clock):
            raise StepTimedOut("readiness", "timeout", "not ready before the deadline: Deployment/web 0/1")
    assert failed.value.message.startswith("not ready before the deadline: Deployment/web 0/1;")


async def test_a_timeout_inside_a_step_is_not_mistaken_for_the_steps_deadline() -> None:
    with pytest.raises(TimeoutError):
        async with bounded("chart", 60, clock=FakeClock()):
            async with asyncio.timeout(0):
                await asyncio.sleep(1)


async def test_a_waiting_step_gets_the_deadline_to_watch() -> None:
    clock = FakeClock()
    async with bounded("namespace_deletion", 30, clock=clock) as deadline:
        assert deadline == clock.time() + 30
    async with bounded("namespace_deletion", 30, overall=clock.time() + 10, clock=clock) as capped:
        assert capped == clock.time() + 10


async def test_deletion_steps_have_deadlines_too() -> None:
    deps = quick(namespace_deletion=0.05)
    cluster, recorder = deps.cluster, deps.publish
    assert isinstance(cluster, FakeCluster) and isinstance(recorder, Recorder)
    cluster.hang.add("namespace_deletion")
    deletion = events.StoreDeletionRequested(
        store_id=request().store_id, owner_id="u1", namespace="store-shop-0b4c43f4"
    )

    started = deps.clock.time()
    assert await run(deps, deletion) is Outcome.RETRY

    # Bounded by the step's own deadline plus its grace (the fake time passes a heartbeat or two at a
    # time), neither by the step's default deadline nor by the provisioning's 15 minutes.
    assert deps.clock.time() - started < DEFAULT_STEP_SECONDS["namespace_deletion"]
    assert deps.clock.time() - started >= 0.05 + deadlines.GRACE_SECONDS
    note = recorder.events[-1]
    assert isinstance(note, events.StepRetrying) and note.step == "namespace_deletion"


async def test_a_retry_is_still_retried_when_its_note_cannot_be_published() -> None:
    deps = quick(quota=0.05)
    cluster = deps.cluster
    assert isinstance(cluster, FakeCluster)
    cluster.hang.add("quota")
    published: list[events.Event] = []

    async def publish(event: events.Event) -> int:
        if isinstance(event, events.StepRetrying):
            raise ConnectionError("the bus is down")
        published.append(event)
        return len(published)

    assert await run(dataclasses.replace(deps, publish=publish), request()) is Outcome.RETRY
    assert [type(e).__name__ for e in published] == ["ProvisioningStarted", "NamespaceCreated"]


def test_step_deadlines_are_configurable_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREPLANE_STEP_DEADLINES", '{"readiness": 1200}')
    seconds = ProvisionerSettings().step_seconds()
    assert seconds["readiness"] == 1200 and seconds["chart"] == DEFAULT_STEP_SECONDS["chart"]

    monkeypatch.setenv("STOREPLANE_STEP_DEADLINES", '{"readyness": 1200}')
    with pytest.raises(ValidationError, match="no such step \\['readyness'\\]"):
        ProvisionerSettings()
    monkeypatch.setenv("STOREPLANE_STEP_DEADLINES", '{"chart": 0}')
    with pytest.raises(ValidationError, match="must be positive"):
        ProvisionerSettings()


async def test_a_long_step_keeps_telling_jetstream_it_is_in_progress() -> None:
    deps = dataclasses.replace(quick(quota=0.3), heartbeat_seconds=0.05)
    cluster = deps.cluster
    assert isinstance(cluster, FakeCluster)
    cluster.hang.add("quota")  # a step with no wait of its own, like a Helm hook running for minutes
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        beats += 1

    decision = await process_command(events.encode(request()), attempt=1, heartbeat=heartbeat, deps=deps)

    assert decision.outcome is Outcome.RETRY
    assert beats >= 3  # 0.3 s of step at one beat every 0.05 s: JetStream never saw it go quiet
