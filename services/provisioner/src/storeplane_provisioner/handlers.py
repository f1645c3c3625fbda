"""What the provisioner does with a request: plain async functions over the ports.

Every step converges (it checks what exists) and emits one event. Event ids are derived
from the request and the step, so a step repeated after a crash publishes the same id:
JetStream drops the duplicate and the timeline shows each step once.
"""

from __future__ import annotations

import math
import secrets
import time
import uuid
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from storeplane_contracts.events import (
    ChartInstalled,
    CredentialsCreated,
    CredentialsRevealed,
    Engine,
    Event,
    FailureStep,
    LimitsApplied,
    NamespaceCreated,
    NetworkPolicyApplied,
    ProvisioningStarted,
    QuotaApplied,
    ReleaseUninstalled,
    StoreDeleted,
    StoreDeletionRequested,
    StoreReady,
    StoreRequested,
)
from storeplane_contracts.queries import CredentialsReply, RevealCredentials, StoreCredentials
from storeplane_provisioner.deadlines import DEFAULT_STEP_SECONDS, bounded
from storeplane_provisioner.errors import PermanentError, Withdrawn
from storeplane_provisioner.ports import Cluster, DeletionRequested, Heartbeat, Helm, Publish

log = structlog.get_logger("storeplane.provisioner")

RELEASE = "store"
CREDENTIALS_SECRET = "store-credentials"


@dataclass(frozen=True)
class Provisioning:
    """The knobs handlers need, taken from settings by the bootstrap."""

    charts_dir: Path
    base_domain: str
    quota: dict[str, str]
    deadline_seconds: float
    ingress_class: str = ""
    storage_class: str = ""
    ingress_tls: bool = False
    ingress_annotations: dict[str, str] = field(default_factory=dict)
    labels_prefix: str = "storeplane.io"
    installable: frozenset[str] = field(default_factory=lambda: frozenset({"woocommerce"}))
    step_seconds: Mapping[FailureStep, float] = field(default_factory=lambda: dict(DEFAULT_STEP_SECONDS))
    # The operator's chart values per engine (e.g. Medusa's seed Job, an image digest); what the
    # platform sets for each store (store, ingress, storage, credentials) always wins over them.
    engine_values: Mapping[Engine, Mapping[str, Any]] = field(default_factory=dict)

    def step(self, name: FailureStep, overall: float = math.inf) -> AbstractAsyncContextManager[float]:
        """Run a step under its own deadline, and never past `overall` (the provisioning's)."""
        return bounded(name, self.step_seconds[name], overall)


def step_id(cause_id: str, step: str) -> str:
    """The same request and step always give the same event id."""
    return str(uuid.uuid5(uuid.UUID(cause_id), step))


def deadline_of(request: Event, seconds: float) -> float:
    """The provisioning deadline as a wall-clock timestamp, counted from the request."""
    return request.occurred_at.timestamp() + seconds


def generated_credentials(host: str) -> dict[str, str]:
    """Fresh secrets for one store: every engine's chart takes the keys it needs."""
    return {
        "db-password": secrets.token_urlsafe(24),
        "db-root-password": secrets.token_urlsafe(24),
        "admin-user": "admin",
        "admin-password": secrets.token_urlsafe(18),
        "admin-email": f"admin@{host}",
        "jwt-secret": secrets.token_urlsafe(32),
        "cookie-secret": secrets.token_urlsafe(32),
    }


def chart_values(request: StoreRequested, config: Provisioning) -> dict[str, Any]:
    host = f"{request.name}.{config.base_domain}"
    platform = {
        "store": {"id": request.store_id, "name": request.name, "host": host},
        "ingress": {
            "className": config.ingress_class,
            "tls": config.ingress_tls,
            "annotations": config.ingress_annotations,
        },
        "storage": {"className": config.storage_class},
        "credentials": {"secretName": CREDENTIALS_SECRET},
    }
    return merged(config.engine_values.get(request.engine, {}), platform)


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`, mappings merged key by key (as Helm merges values files)."""
    result = dict(base)
    for key, value in over.items():
        below = result.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            result[key] = merged(below, value)
        else:
            result[key] = value
    return result


async def provision_store(
    request: StoreRequested,
    *,
    attempt: int,
    cluster: Cluster,
    helm: Helm,
    publish: Publish,
    heartbeat: Heartbeat,
    config: Provisioning,
    deletion_requested: DeletionRequested,
) -> StoreReady:
    """Run every step for one store request and publish its events; raises on failure.

    Before each step it makes sure the store's deletion has not been requested meanwhile (a request
    redelivered after a crash, a retry racing a delete): if it has, it removes what it created and
    raises `Withdrawn`, so no namespace outlives its store.
    """
    sid, oid = request.store_id, request.owner_id
    ns = request.namespace
    deadline = deadline_of(request, config.deadline_seconds)

    def event_id(step: str) -> str:
        return step_id(request.event_id, step)

    async def unless_deleted() -> None:
        if await deletion_requested(sid):
            await uninstall_release(ns, cluster=cluster, helm=helm, config=config)
            await delete_store_namespace(ns, cluster=cluster, heartbeat=heartbeat, config=config)
            raise Withdrawn(f"store {sid} was deleted while it was being provisioned")

    await unless_deleted()
    await publish(
        ProvisioningStarted(store_id=sid, owner_id=oid, event_id=event_id(f"started-{attempt}"), attempt=attempt)
    )
    if time.time() > deadline:
        raise PermanentError("deadline", "timeout", "provisioning did not finish before its deadline")
    if request.engine not in config.installable:
        raise PermanentError("chart", "unsupported_engine", f"engine {request.engine!r} cannot be installed yet")

    labels = {
        f"{config.labels_prefix}/store-id": request.store_id,
        f"{config.labels_prefix}/owner-id": request.owner_id,
        f"{config.labels_prefix}/engine": request.engine,
        "app.kubernetes.io/managed-by": "storeplane",
    }
    await unless_deleted()
    async with config.step("namespace", deadline):
        await cluster.ensure_namespace(ns, labels)
    await publish(NamespaceCreated(store_id=sid, owner_id=oid, event_id=event_id("namespace"), namespace=ns))
    await unless_deleted()
    async with config.step("quota", deadline):
        await cluster.ensure_resource_quota(ns, config.quota)
    await publish(QuotaApplied(store_id=sid, owner_id=oid, event_id=event_id("quota"), namespace=ns, hard=config.quota))
    await unless_deleted()
    async with config.step("limits", deadline):
        await cluster.ensure_limit_range(ns)
    await publish(LimitsApplied(store_id=sid, owner_id=oid, event_id=event_id("limits"), namespace=ns))
    await unless_deleted()
    async with config.step("network_policy", deadline):
        await cluster.ensure_network_policy(ns)
    await publish(NetworkPolicyApplied(store_id=sid, owner_id=oid, event_id=event_id("network_policy"), namespace=ns))

    host = f"{request.name}.{config.base_domain}"
    await unless_deleted()
    async with config.step("credentials", deadline):
        await cluster.ensure_secret(ns, CREDENTIALS_SECRET, generated_credentials(host))
    await publish(
        CredentialsCreated(
            store_id=sid, owner_id=oid, event_id=event_id("credentials"), namespace=ns, secret=CREDENTIALS_SECRET
        )
    )

    chart = config.charts_dir / request.engine
    await unless_deleted()
    async with config.step("chart", deadline):
        revision = await helm.upgrade_install(RELEASE, chart, ns, chart_values(request, config))
    await publish(
        ChartInstalled(
            store_id=sid,
            owner_id=oid,
            event_id=event_id("chart"),
            namespace=ns,
            release=RELEASE,
            chart=request.engine,
            revision=revision,
        )
    )

    await unless_deleted()
    async with config.step("readiness", deadline) as readiness_deadline:
        await cluster.wait_workloads_ready(ns, deadline=readiness_deadline, heartbeat=heartbeat)
        urls = await cluster.ingress_urls(ns)
    await unless_deleted()
    ready = StoreReady(store_id=sid, owner_id=oid, event_id=event_id("ready"), urls=urls)
    await publish(ready)
    return ready


async def delete_store(
    request: StoreDeletionRequested,
    *,
    cluster: Cluster,
    helm: Helm,
    publish: Publish,
    heartbeat: Heartbeat,
    config: Provisioning,
) -> StoreDeleted:
    """Uninstall the release, delete the namespace, wait until it is gone: each step under its own deadline
    (deletion has no overall one: a store being deleted is never left half-deleted for lack of time)."""
    sid, oid = request.store_id, request.owner_id
    ns = request.namespace
    await uninstall_release(ns, cluster=cluster, helm=helm, config=config)
    await publish(
        ReleaseUninstalled(
            store_id=sid, owner_id=oid, event_id=step_id(request.event_id, "uninstalled"), namespace=ns, release=RELEASE
        )
    )
    await delete_store_namespace(ns, cluster=cluster, heartbeat=heartbeat, config=config)
    deleted = StoreDeleted(store_id=sid, owner_id=oid, event_id=step_id(request.event_id, "deleted"), namespace=ns)
    await publish(deleted)
    return deleted


async def uninstall_release(ns: str, *, cluster: Cluster, helm: Helm, config: Provisioning) -> None:
    async with config.step("uninstall"):
        await cluster.mark_deleting(ns)
        await helm.uninstall(RELEASE, ns)


async def delete_store_namespace(ns: str, *, cluster: Cluster, heartbeat: Heartbeat, config: Provisioning) -> None:
    async with config.step("namespace_deletion") as deadline:
        await cluster.delete_namespace(ns, deadline=deadline, heartbeat=heartbeat)


async def reveal_credentials(query: RevealCredentials, *, cluster: Cluster, publish: Publish) -> CredentialsReply:
    """Hand the store's admin login to its owner, once; the timeline records that it happened."""
    try:
        data = await cluster.take_secret_once(query.namespace, CREDENTIALS_SECRET, store_id=query.store_id)
    except Exception as exc:  # the cluster did not answer: nothing was taken, the owner may ask again
        log.warning("credentials not revealed", store_id=query.store_id, error=repr(exc))
        return CredentialsReply(refused="unavailable")
    if isinstance(data, str):
        return CredentialsReply(refused=data)
    try:
        await publish(CredentialsRevealed(store_id=query.store_id, owner_id=query.owner_id))
    except Exception as exc:  # the one read is spent: the owner gets it even if the timeline misses the note
        log.warning("reveal not noted in the timeline", store_id=query.store_id, error=repr(exc))
    return CredentialsReply(
        credentials=StoreCredentials(
            username=data.get("admin-user", ""),
            password=data.get("admin-password", ""),
            email=data.get("admin-email", ""),
        )
    )
