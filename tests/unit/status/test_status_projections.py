"""The lifecycle rules of the `stores` read model, without a database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

import pytest

from storeplane_contracts import events
from storeplane_contracts.queries import StoreError, StoreStatus
from storeplane_status.projections import STATUS_AFTER, StoreRow, project, timeline_row

T0 = datetime(2025, 1, 1, tzinfo=UTC)


class Ids(TypedDict):
    """The fields that say whose store an event is about."""

    store_id: str
    owner_id: str


IDS = Ids(store_id="s-1", owner_id="o-1")
NS = "store-shop-s1"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


REQUESTED = StoreRow(
    id="s-1",
    owner_id="o-1",
    name="shop",
    engine="woocommerce",
    namespace=NS,
    status="requested",
    created_at=T0,
    updated_at=T0,
    last_sequence=1,
)


def row(status: StoreStatus = "requested", **changes: Any) -> StoreRow:
    """The store's row in `status`; `changes` are checked against `StoreRow` when it is built."""
    return dataclasses.replace(REQUESTED, status=status, **changes)


def failed(minutes: int = 5) -> events.ProvisioningFailed:
    return events.ProvisioningFailed(
        **IDS,
        occurred_at=at(minutes),
        step="readiness",
        reason="timeout",
        message="not ready after 15 minutes",
        retryable=True,
    )


def test_every_event_type_has_a_status() -> None:
    assert set(STATUS_AFTER) == set(events.EVENT_TYPES)


def test_a_request_creates_the_row() -> None:
    event = events.StoreRequested(**IDS, occurred_at=T0, name="shop", engine="medusa", namespace=NS)

    assert project(event, 7, None) == StoreRow(
        id="s-1",
        owner_id="o-1",
        name="shop",
        engine="medusa",
        namespace=NS,
        status="requested",
        created_at=T0,
        updated_at=T0,
        last_sequence=7,
    )


def test_a_repeated_request_never_resets_a_store() -> None:
    event = events.StoreRequested(**IDS, occurred_at=at(9), name="shop", engine="medusa", namespace=NS)

    assert project(event, 9, row("ready")) is None


def test_an_event_for_a_store_without_a_row_changes_no_row() -> None:
    assert project(events.NamespaceCreated(**IDS, namespace=NS), 2, None) is None


@pytest.mark.parametrize(
    "event",
    [
        events.ProvisioningStarted(**IDS, occurred_at=at(1)),
        events.NamespaceCreated(**IDS, occurred_at=at(1), namespace=NS),
        events.QuotaApplied(**IDS, occurred_at=at(1), namespace=NS),
        events.LimitsApplied(**IDS, occurred_at=at(1), namespace=NS),
        events.NetworkPolicyApplied(**IDS, occurred_at=at(1), namespace=NS),
        events.CredentialsCreated(**IDS, occurred_at=at(1), namespace=NS, secret="creds"),
        events.ChartInstalled(**IDS, occurred_at=at(1), namespace=NS, release="shop", chart="woocommerce", revision=1),
    ],
)
def test_a_provisioning_step_makes_a_requested_store_provisioning(event: events.AnyEvent) -> None:
    assert project(event, 2, row("requested")) == row("provisioning", updated_at=at(1), last_sequence=2)


def test_ready_sets_the_urls_and_clears_an_error() -> None:
    ready = events.StoreReady(**IDS, occurred_at=at(3), urls={"storefront": "http://shop.stores.localhost"})
    error = StoreError(step="readiness", reason="timeout", message="slow", retryable=True)

    new = project(ready, 9, row("failed", error=error))

    assert new is not None
    assert (new.status, new.urls, new.error, new.last_sequence) == (
        "ready",
        {"storefront": "http://shop.stores.localhost"},
        None,
        9,
    )


def test_a_failure_records_step_reason_message_and_retryable() -> None:
    new = project(failed(), 4, row("provisioning"))

    assert new is not None and new.status == "failed"
    assert new.error == StoreError(
        step="readiness", reason="timeout", message="not ready after 15 minutes", retryable=True
    )


@pytest.mark.parametrize("current", ["ready", "failed", "deleting", "deleted"])
def test_a_late_provisioning_step_never_moves_the_status_back(current: StoreStatus) -> None:
    late = events.NamespaceCreated(**IDS, occurred_at=at(1), namespace=NS)

    assert project(late, 20, row(current)) is None


@pytest.mark.parametrize(
    ("current", "event", "expected"),
    [
        ("requested", events.StoreDeletionRequested(**IDS, namespace=NS), "deleting"),
        ("deleting", events.StoreDeleted(**IDS, namespace=NS), "deleted"),
        ("deleted", events.StoreDeletionRequested(**IDS, namespace=NS), None),
        ("deleted", events.ReleaseUninstalled(**IDS, namespace=NS, release="shop"), None),
        ("deleting", events.StoreReady(**IDS, urls={}), None),
        ("deleting", failed(), None),
        ("ready", events.ProvisioningStarted(**IDS), None),
        ("failed", events.ProvisioningStarted(**IDS), None),
        ("provisioning", events.StoreRequested(**IDS, name="shop", engine="medusa", namespace=NS), None),
    ],
)
def test_status_only_moves_forward(current: StoreStatus, event: events.AnyEvent, expected: str | None) -> None:
    new = project(event, 30, row(current))

    assert (new.status if new else None) == expected


def test_a_deletion_failure_stays_deleting_with_the_error() -> None:
    event = events.DeletionFailed(
        **IDS,
        step="namespace_deletion",
        reason="finalizer_stuck",
        message="namespace still terminating",
        retryable=True,
    )

    new = project(event, 12, row("deleting"))

    assert new is not None and new.status == "deleting"
    assert new.error is not None and (new.error.step, new.error.reason) == ("namespace_deletion", "finalizer_stuck")


def test_deleting_again_after_a_deletion_failure_clears_the_error() -> None:
    error = StoreError(step="namespace_deletion", reason="namespace_stuck", message="stuck", retryable=True)

    new = project(
        events.StoreDeletionRequested(**IDS, occurred_at=at(40), namespace=NS), 50, row("deleting", error=error)
    )

    assert new is not None and (new.status, new.error) == ("deleting", None)


def test_a_retry_note_goes_only_into_the_timeline() -> None:
    note = events.StepRetrying(
        **IDS,
        step="namespace_deletion",
        reason="namespace_stuck",
        message="namespace store-shop-s1 is stuck terminating, held back by configmaps/hold (finalizers: x/y)",
        attempt=2,
        max_attempts=5,
        retry_in_seconds=3.5,
    )

    assert project(note, 14, row("deleting")) is None
    assert timeline_row(note, 14).data["message"].endswith("(finalizers: x/y)")


def test_a_stall_note_goes_only_into_the_timeline_with_its_findings() -> None:
    finding = events.StallFinding(
        kind="claim_unbound", object="PersistentVolumeClaim/data-db-0", reason="ProvisioningFailed", message="m"
    )
    note = events.StepStalled(
        **IDS, step="readiness", running_for_seconds=61.5, threshold_seconds=60.0, findings=[finding]
    )

    assert project(note, 9, row("provisioning")) is None
    assert timeline_row(note, 9).data == {
        "step": "readiness",
        "running_for_seconds": 61.5,
        "threshold_seconds": 60.0,
        "findings": [
            {
                "kind": "claim_unbound",
                "object": "PersistentVolumeClaim/data-db-0",
                "reason": "ProvisioningFailed",
                "message": "m",
            }
        ],
    }


def test_deleted_is_a_tombstone_that_keeps_the_store() -> None:
    error = StoreError(step="namespace_deletion", reason="finalizer_stuck", message="stuck", retryable=True)
    current = row("deleting", urls={"storefront": "http://shop.stores.localhost"}, error=error)

    new = project(events.StoreDeleted(**IDS, occurred_at=at(30), namespace=NS), 40, current)

    assert new is not None
    assert (new.status, new.name, new.created_at, new.error) == ("deleted", "shop", T0, None)
    assert new.urls == current.urls


def test_updated_at_and_sequence_never_go_back() -> None:
    current = row("provisioning", updated_at=at(10), last_sequence=8)

    new = project(events.StoreReady(**IDS, occurred_at=at(5), urls={}), 9, current)

    assert new is not None and (new.updated_at, new.last_sequence) == (at(10), 9)


def test_the_timeline_keeps_the_event_minus_the_common_fields() -> None:
    event = events.ChartInstalled(**IDS, occurred_at=T0, namespace=NS, release="shop", chart="medusa", revision=2)

    entry = timeline_row(event, 11)

    assert (entry.event_id, entry.store_id, entry.sequence, entry.type, entry.occurred_at) == (
        event.event_id,
        "s-1",
        11,
        "ChartInstalled",
        T0,
    )
    assert entry.data == {"namespace": NS, "release": "shop", "chart": "medusa", "revision": 2}


def retry(minutes: int = 9) -> events.StoreRetryRequested:
    return events.StoreRetryRequested(
        **IDS, occurred_at=at(minutes), name="shop", engine="woocommerce", namespace=NS, failed_step="readiness"
    )


def test_a_retry_moves_a_failed_store_back_to_provisioning_and_clears_the_error() -> None:
    current = project(failed(), 7, row("provisioning"))
    assert current is not None and current.error is not None
    retried = project(retry(), 8, current)
    assert retried is not None
    assert (retried.status, retried.error, retried.last_sequence) == ("provisioning", None, 8)


@pytest.mark.parametrize("status", ["requested", "provisioning", "ready", "deleting", "deleted"])
def test_a_retry_changes_nothing_unless_the_store_failed(status: StoreStatus) -> None:
    assert project(retry(), 8, row(status)) is None
