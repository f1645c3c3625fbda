"""Drift: a ready store changed outside Storeplane (namespace deleted, release removed, an object
of the release deleted, a workload broken for good).

The reconciler checks ready stores on a schedule and when a store namespace disappears, and
publishes `StoreDegraded` with what it found. Its event id is derived from the store's state,
so several provisioner replicas that notice the same drift publish one event. The repair is a
command on the work queue like any other: the provisioning steps run again and converge.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import cast

import structlog
import yaml

from storeplane_contracts.events import Engine, StoreDegraded
from storeplane_contracts.queries import StoreView
from storeplane_provisioner.ports import Drift, Publish, StoreDirectory

log = structlog.get_logger("storeplane.provisioner.drift")

# Objects of a release whose absence means the store is broken.
CHECKED_KINDS = frozenset({"Deployment", "StatefulSet", "Service", "Ingress", "PersistentVolumeClaim"})


def expected_objects(manifest: str) -> list[tuple[str, str]]:
    """(kind, name) of the release's objects that a store cannot work without."""
    objects = [o for o in yaml.safe_load_all(manifest) if isinstance(o, dict)]
    return [(o["kind"], o["metadata"]["name"]) for o in objects if o.get("kind") in CHECKED_KINDS]


def degraded_event(store: StoreView, reason: str, message: str, *, repair: bool) -> StoreDegraded:
    # One id per store state and finding: replicas noticing the same drift publish it once.
    event_id = str(uuid.uuid5(uuid.UUID(store.id), f"degraded-{store.updated_at.isoformat()}-{reason}"))
    return StoreDegraded(
        store_id=store.id,
        owner_id=store.owner_id,
        event_id=event_id,
        name=store.name,
        engine=cast(Engine, store.engine),
        namespace=store.namespace,
        reason=reason,
        message=message,
        repair=repair,
    )


async def check_ready_stores(
    *, directory: StoreDirectory, drift: Drift, publish: Publish, release: str, repair: bool
) -> int:
    """One pass over the ready stores; returns how many were found degraded."""
    found = 0
    for store in await directory.stores_in_status(["ready"]):
        finding = await drift.drift(store.namespace, release)
        if finding is None:
            continue
        reason, message = finding
        if store.id not in {s.id for s in await directory.stores_in_status(["ready"])}:
            continue  # its deletion (or another change) started while we looked
        log.warning("store drifted", store_id=store.id, reason=reason, message=message, repair=repair)
        await publish(degraded_event(store, reason, message, repair=repair))
        found += 1
    return found


async def reconcile_forever(
    *,
    directory: StoreDirectory,
    drift: Drift,
    publish: Publish,
    release: str,
    repair: bool,
    interval: float,
    wake: asyncio.Event,
    round_took: Callable[[float], None] = lambda _seconds: None,
) -> None:
    """Check every `interval` seconds, or sooner when `wake` is set (a store namespace vanished); each
    complete pass's seconds go to `round_took` (it grows with the ready stores: docs/deploying.md)."""
    while True:
        started = time.perf_counter()
        try:
            await check_ready_stores(directory=directory, drift=drift, publish=publish, release=release, repair=repair)
            round_took(time.perf_counter() - started)
        except Exception as exc:  # the bus or the cluster is away: the next pass tries again
            log.warning("drift check failed", error=repr(exc))
        wake.clear()
        try:
            async with asyncio.timeout(interval):
                await wake.wait()
        except TimeoutError:
            pass


def objects_missing(expected: list[tuple[str, str]], present: set[tuple[str, str]]) -> list[str]:
    return [f"{kind}/{name}" for kind, name in expected if (kind, name) not in present]
