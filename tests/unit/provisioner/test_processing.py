"""Provisioning handlers and the retry decisions, with fake ports."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storeplane_contracts import events
from storeplane_contracts.queries import RevealCredentials
from storeplane_provisioner.errors import PermanentError, TemporaryError
from storeplane_provisioner.provisioning.config import Provisioning
from storeplane_provisioner.provisioning.credentials import reveal_credentials
from storeplane_provisioner.provisioning.processing import Dependencies, Outcome, process_command
from tests.steps import PROVISIONING_STEPS

from .fakes import FakeCluster, FakeHelm, Recorder, no_heartbeat

CONFIG = Provisioning(
    charts_dir=Path("/charts"), base_domain="stores.localhost", quota={"pods": "5"}, deadline_seconds=900
)


def request(engine: events.Engine = "woocommerce") -> events.StoreRequested:
    return events.StoreRequested(
        store_id="0b4c43f4-5a0a-4a38-9a44-3f0ba8a4d2c1",
        owner_id="u1",
        name="shop",
        engine=engine,
        namespace="store-shop-0b4c43f4",
    )


@pytest.fixture
def deps() -> Dependencies:
    return Dependencies(cluster=FakeCluster(), helm=FakeHelm(), publish=Recorder(), config=CONFIG, max_attempts=3)


async def run(deps: Dependencies, command: events.Event, attempt: int = 1) -> Outcome:
    decision = await process_command(events.encode(command), attempt=attempt, heartbeat=no_heartbeat, deps=deps)
    return decision.outcome


async def test_every_step_emits_one_event_in_order(deps: Dependencies) -> None:
    assert await run(deps, request()) is Outcome.ACK
    recorder = deps.publish
    assert isinstance(recorder, Recorder)
    assert recorder.types == PROVISIONING_STEPS[1:]  # the request itself is the gateway's
    helm = deps.helm
    assert isinstance(helm, FakeHelm)
    values = helm.values[("store-shop-0b4c43f4", "store")]
    assert values["store"] == {"id": request().store_id, "name": "shop", "host": "shop.stores.localhost"}
    assert "password" not in str(values)  # credentials live in the Secret, not in values


async def test_a_redelivered_request_converges_without_duplicate_events(deps: Dependencies) -> None:
    redelivered = request()
    await run(deps, redelivered, attempt=1)
    await run(deps, redelivered, attempt=2)
    recorder = deps.publish
    assert isinstance(recorder, Recorder)
    # Only the second "started" is new: every other step has the same id as before.
    assert recorder.types.count("NamespaceCreated") == 1
    assert recorder.types.count("ProvisioningStarted") == 2
    cluster = deps.cluster
    assert isinstance(cluster, FakeCluster)
    assert len(cluster.secrets) == 1  # the credentials were kept, not regenerated


async def test_temporary_failures_retry_then_fail_as_retryable(deps: Dependencies) -> None:
    cluster = deps.cluster
    assert isinstance(cluster, FakeCluster)
    cluster.fail["namespace"] = TemporaryError("namespace", "api_unavailable", "connection refused")
    assert await run(deps, request(), attempt=1) is Outcome.RETRY
    assert await run(deps, request(), attempt=2) is Outcome.RETRY
    assert await run(deps, request(), attempt=3) is Outcome.ACK
    recorder = deps.publish
    assert isinstance(recorder, Recorder)
    failure = recorder.events[-1]
    assert isinstance(failure, events.ProvisioningFailed)
    assert (failure.step, failure.reason, failure.retryable) == ("namespace", "api_unavailable", True)


async def test_permanent_failure_is_reported_at_once(deps: Dependencies) -> None:
    cluster = deps.cluster
    assert isinstance(cluster, FakeCluster)
    cluster.fail["readiness"] = PermanentError("readiness", "quota_exceeded", "Deployment/x: exceeded quota")
    assert await run(deps, request()) is Outcome.ACK
    recorder = deps.publish
    assert isinstance(recorder, Recorder)
    failure = recorder.events[-1]
    assert isinstance(failure, events.ProvisioningFailed)
    assert (failure.step, failure.reason, failure.retryable) == ("readiness", "quota_exceeded", False)
    assert "StoreReady" not in recorder.types


async def test_an_engine_without_chart_fails_permanently(deps: Dependencies) -> None:
    assert await run(deps, request(engine="medusa")) is Outcome.ACK
    recorder = deps.publish
    assert isinstance(recorder, Recorder)
    failure = recorder.events[-1]
    assert isinstance(failure, events.ProvisioningFailed) and failure.reason == "unsupported_engine"


async def test_garbage_is_dropped_not_retried(deps: Dependencies) -> None:
    decision = await process_command(b'{"type": "Nope"}', attempt=1, heartbeat=no_heartbeat, deps=deps)
    assert decision.outcome is Outcome.DROP


async def test_deletion_uninstalls_and_removes_the_namespace(deps: Dependencies) -> None:
    await run(deps, request())
    deletion = events.StoreDeletionRequested(
        store_id=request().store_id, owner_id="u1", namespace="store-shop-0b4c43f4"
    )
    assert await run(deps, deletion) is Outcome.ACK
    recorder, cluster, helm = deps.publish, deps.cluster, deps.helm
    assert isinstance(recorder, Recorder) and isinstance(cluster, FakeCluster) and isinstance(helm, FakeHelm)
    assert recorder.types[-2:] == ["ReleaseUninstalled", "StoreDeleted"]
    assert cluster.namespaces == {} and helm.releases == {}


async def test_credentials_are_revealed_once_and_only_for_the_store_itself(deps: Dependencies) -> None:
    await run(deps, request())
    ask = RevealCredentials(store_id=request().store_id, owner_id="u1", namespace="store-shop-0b4c43f4")
    first = await reveal_credentials(ask, cluster=deps.cluster, publish=deps.publish)
    assert first.credentials is not None and first.credentials.username == "admin"
    assert len(first.credentials.password) >= 20
    second = await reveal_credentials(ask, cluster=deps.cluster, publish=deps.publish)
    assert (second.credentials, second.refused) == (None, "already_revealed")
    elsewhere = RevealCredentials(store_id=str(uuid.uuid4()), owner_id="u1", namespace="store-shop-0b4c43f4")
    assert (await reveal_credentials(elsewhere, cluster=deps.cluster, publish=deps.publish)).refused == "not_found"
    recorder = deps.publish
    assert isinstance(recorder, Recorder)
    assert recorder.types.count("CredentialsRevealed") == 1
    assert first.credentials.password not in str([events.to_builtins(e) for e in recorder.events])


async def test_a_retry_reruns_the_steps_under_its_own_event_ids(deps: Dependencies) -> None:
    cluster, recorder = deps.cluster, deps.publish
    assert isinstance(cluster, FakeCluster) and isinstance(recorder, Recorder)
    cluster.fail["readiness"] = PermanentError("readiness", "timeout", "Deployment/web: 0/1 replicas ready")
    original = request()
    await run(deps, original)
    del cluster.fail["readiness"]
    retry = events.StoreRetryRequested(
        store_id=original.store_id,
        owner_id="u1",
        name="shop",
        engine="woocommerce",
        namespace=original.namespace,
        failed_step="readiness",
    )
    assert await run(deps, retry) is Outcome.ACK
    after = recorder.types[recorder.types.index("ProvisioningFailed") + 1 :]
    assert after[0] == "ProvisioningStarted" and after[-1] == "StoreReady"
    assert "NamespaceCreated" in after  # this attempt's own events, not deduplicated away
    assert len(cluster.secrets) == 1  # the credentials were kept


async def test_a_request_for_a_store_already_being_deleted_creates_nothing(deps: Dependencies) -> None:
    async def deleted(store_id: str) -> bool:
        return store_id == request().store_id

    deps = replace(deps, deletion_requested=deleted)
    assert await run(deps, request(), attempt=2) is Outcome.ACK
    recorder, cluster = deps.publish, deps.cluster
    assert isinstance(recorder, Recorder) and isinstance(cluster, FakeCluster)
    assert recorder.types == []  # not even "started": the timeline ends with the deletion
    assert cluster.namespaces == {}


async def test_a_deletion_requested_mid_way_removes_what_provisioning_created(deps: Dependencies) -> None:
    helm = deps.helm
    assert isinstance(helm, FakeHelm)

    async def deleted_once_installed(store_id: str) -> bool:
        return bool(helm.releases)  # the delete arrives while the chart is being installed

    deps = replace(deps, deletion_requested=deleted_once_installed)
    assert await run(deps, request()) is Outcome.ACK
    recorder, cluster = deps.publish, deps.cluster
    assert isinstance(recorder, Recorder) and isinstance(cluster, FakeCluster)
    assert recorder.types[-1] == "ChartInstalled"
    assert "StoreReady" not in recorder.types
    assert cluster.namespaces == {} and helm.releases == {}


async def test_an_unexpected_fault_is_blamed_on_the_step_it_hit(deps: Dependencies) -> None:
    cluster = deps.cluster
    assert isinstance(cluster, FakeCluster)
    cluster.fail["quota"] = RuntimeError("a bug")
    assert await run(deps, request()) is Outcome.RETRY
    recorder = deps.publish
    assert isinstance(recorder, Recorder)
    note = recorder.events[-1]
    assert isinstance(note, events.StepRetrying)
    assert (note.step, note.reason) == ("quota", "internal_error")
    assert "a bug" in note.message


async def test_credentials_survive_an_unreachable_cluster_and_a_lost_timeline_note(deps: Dependencies) -> None:
    await run(deps, request())
    cluster = deps.cluster
    assert isinstance(cluster, FakeCluster)
    ask = RevealCredentials(store_id=request().store_id, owner_id="u1", namespace="store-shop-0b4c43f4")
    cluster.fail["credentials"] = TemporaryError("credentials", "api_unavailable", "connection refused")
    down = await reveal_credentials(ask, cluster=cluster, publish=deps.publish)
    assert (down.credentials, down.refused) == (None, "unavailable")
    del cluster.fail["credentials"]

    async def bus_away(event: events.Event) -> int:
        raise ConnectionError("nats: connection closed")

    # The one read is spent once the Secret is marked: the owner still gets it.
    back = await reveal_credentials(ask, cluster=cluster, publish=bus_away)
    assert back.credentials is not None and len(back.credentials.password) >= 20


async def test_operator_values_reach_the_chart_under_the_platforms_own(deps: Dependencies) -> None:
    operator: dict[events.Engine, dict[str, Any]] = {
        "woocommerce": {"seed": {"enabled": True}, "store": {"host": "evil.example", "extra": "kept"}},
        "medusa": {"unrelated": True},
    }
    deps = replace(deps, config=replace(CONFIG, engine_values=operator))
    assert await run(deps, request()) is Outcome.ACK
    helm = deps.helm
    assert isinstance(helm, FakeHelm)
    values = helm.values[("store-shop-0b4c43f4", "store")]
    assert values["seed"] == {"enabled": True}
    assert values["store"]["host"] == "shop.stores.localhost"  # the platform's value wins
    assert values["store"]["extra"] == "kept"
    assert "unrelated" not in values  # another engine's values stay there
