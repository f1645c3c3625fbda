"""A step held back on purpose, on real NATS and the real local Kubernetes API: the engine's chart asks for
volumes of a storage class that does not exist, so its claims never bind and the readiness wait cannot
finish. Long before that step's deadline, the store's timeline gets a `StepStalled` naming the claim and
Kubernetes' reason and the pods waiting for it; no status service answers for figures here, so the
floor alone is the threshold."""

from __future__ import annotations

import uuid

import pytest
from faststream.nats import NatsBroker

from storeplane_contracts import events, naming
from storeplane_provisioner.bootstrap import running
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.bus import publish_event
from tests.integration.provisioner.support import events_of, events_until

pytestmark = pytest.mark.integration

FLOOR_SECONDS = 8.0
READINESS_DEADLINE_SECONDS = 25.0


async def test_a_readiness_wait_held_back_by_unbound_claims_is_noted_with_them_before_its_deadline(
    nats_url: str, provisioner_settings: ProvisionerSettings, broker: NatsBroker
) -> None:
    settings = provisioner_settings.model_copy(
        update={
            "storage_class": "no-such-class",
            "stall_floor_seconds": FLOOR_SECONDS,
            "step_deadlines": {"readiness": READINESS_DEADLINE_SECONDS},
            # The deadline then fails the store (no retries), and its deletion does not race a provisioning.
            "max_attempts": 1,
        }
    )
    store_id = str(uuid.uuid4())
    namespace = naming.namespace_for("stall-shop", store_id)
    async with running(settings):
        request = events.StoreRequested(
            store_id=store_id, owner_id="owner-1", name="stall-shop", engine="woocommerce", namespace=namespace
        )
        await publish_event(broker, request)
        try:
            timeline = await events_of(nats_url, store_id, events.StoreReady)
        finally:
            deletion = events.StoreDeletionRequested(store_id=store_id, owner_id="owner-1", namespace=namespace)
            await publish_event(broker, deletion)
            finished = (events.StoreDeleted, events.DeletionFailed)
            gone = await events_until(nats_url, store_id, lambda e: isinstance(e, finished), timeout=180)

    [chart] = [e for e in timeline if isinstance(e, events.ChartInstalled)]
    [note] = [e for e in timeline if isinstance(e, events.StepStalled) and e.step == "readiness"]
    failed = timeline[-1]
    assert isinstance(failed, events.ProvisioningFailed) and (failed.step, failed.reason) == ("readiness", "timeout")
    # Noted once, after the floor and well before the step's deadline failed the store.
    waited = (note.occurred_at - chart.occurred_at).total_seconds()
    assert FLOOR_SECONDS <= waited < READINESS_DEADLINE_SECONDS - 5
    assert timeline.index(note) < timeline.index(failed)
    assert note.threshold_seconds == FLOOR_SECONDS and note.running_for_seconds >= FLOOR_SECONDS
    claims = [f for f in note.findings if f.kind == "claim_unbound"]
    # The chart's two claims (WordPress' own, MySQL's from its StatefulSet), with the PV controller's reason.
    assert {f.object for f in claims} == {
        "PersistentVolumeClaim/store-woocommerce-wordpress",
        "PersistentVolumeClaim/data-store-woocommerce-mysql-0",
    }, note.findings
    assert {(f.reason, f.message) for f in claims} == {
        ("ProvisioningFailed", 'storageclass.storage.k8s.io "no-such-class" not found')
    }
    # Their pods wait for them, and say so.
    unschedulable = [f for f in note.findings if f.kind == "pod_unschedulable"]
    assert unschedulable and all("unbound immediate PersistentVolumeClaims" in f.message for f in unschedulable)
    assert isinstance(gone[-1], events.StoreDeleted)
