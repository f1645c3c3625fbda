"""Drift findings: what a release must have, and one degraded event per store and finding."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from storeplane_contracts.events import StoreDegraded
from storeplane_contracts.queries import StoreStatus, StoreView
from storeplane_provisioner.provisioning.drifting import (
    check_ready_stores,
    expected_objects,
    objects_missing,
    reconcile_forever,
)

from .fakes import Recorder

MANIFEST = """
---
apiVersion: v1
kind: Secret
metadata: {name: ignored}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: Service
metadata: {name: web}
"""


def store(store_id: str = "0b4c43f4-5a0a-4a38-9a44-3f0ba8a4d2c1") -> StoreView:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return StoreView(
        id=store_id,
        owner_id="u1",
        name="shop",
        engine="woocommerce",
        namespace="store-shop-0b4c43f4",
        status="ready",
        created_at=at,
        updated_at=at,
    )


class Directory:
    async def stores_in_status(self, statuses: list[StoreStatus]) -> list[StoreView]:
        return [store()] if "ready" in statuses else []


class Drift:
    def __init__(self, finding: tuple[str, str] | None) -> None:
        self.finding = finding

    async def drift(self, namespace: str, release: str) -> tuple[str, str] | None:
        return self.finding


def test_the_release_objects_that_matter() -> None:
    expected = expected_objects(MANIFEST)
    assert expected == [("Deployment", "web"), ("Service", "web")]
    assert objects_missing(expected, {("Service", "web")}) == ["Deployment/web"]


async def test_a_drifted_store_is_reported_once_per_finding() -> None:
    recorder = Recorder()
    finding = ("objects_missing", "deleted outside Storeplane: Deployment/web")
    for _ in range(2):  # two passes, or two provisioner replicas, find the same drift
        found = await check_ready_stores(
            directory=Directory(), drift=Drift(finding), publish=recorder, release="store", repair=True
        )
        assert found == 1
    [event] = recorder.events
    assert isinstance(event, StoreDegraded)
    assert (event.reason, event.repair) == ("objects_missing", True)


async def test_a_healthy_store_is_left_alone() -> None:
    recorder = Recorder()
    assert (
        await check_ready_stores(
            directory=Directory(), drift=Drift(None), publish=recorder, release="store", repair=True
        )
        == 0
    )
    assert recorder.events == []


async def test_each_complete_round_says_how_long_it_took_and_a_failed_one_does_not() -> None:
    rounds: list[float] = []

    class Failing(Directory):
        async def stores_in_status(self, statuses: list[StoreStatus]) -> list[StoreView]:
            raise ConnectionError("the status service is away")

    for directory in (Directory(), Failing()):
        reconciling = asyncio.create_task(
            reconcile_forever(
                directory=directory,
                drift=Drift(None),
                publish=Recorder(),
                release="store",
                repair=True,
                interval=3600,
                wake=asyncio.Event(),
                round_took=rounds.append,
            )
        )
        await asyncio.sleep(0.05)  # one pass, then the long wait
        reconciling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reconciling
    assert len(rounds) == 1 and 0 <= rounds[0] < 1
