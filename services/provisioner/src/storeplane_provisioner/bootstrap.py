"""The provisioner's composition root: the only place that connects to NATS and Kubernetes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import get_args

from faststream.nats import NatsBroker
from kubernetes_asyncio.client import ApiClient

from storeplane_contracts import subjects
from storeplane_contracts.events import Engine, Event, StoreDeletionRequested
from storeplane_provisioner.adapters.helm import HelmCli
from storeplane_provisioner.adapters.kubernetes.cluster import (
    ClusterDrift,
    IngressController,
    KubernetesCluster,
    connect,
)
from storeplane_provisioner.adapters.status_directory import StatusDirectory
from storeplane_provisioner.metrics import DRIFT_ROUND_SECONDS
from storeplane_provisioner.ports import DeletionRequested, Publish
from storeplane_provisioner.provisioning.config import RELEASE, Provisioning
from storeplane_provisioner.provisioning.drifting import reconcile_forever
from storeplane_provisioner.provisioning.processing import Dependencies
from storeplane_provisioner.provisioning.stalls import Stalls
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_provisioner.subscribers import register, work_queue_consumer
from storeplane_runtime.bus import ensure_stream, make_broker, publish_event, start_serving, stream_has
from storeplane_runtime.consumers import watch_consumer


@dataclass
class Provisioner:
    """A running provisioner: its broker and Kubernetes client."""

    broker: NatsBroker
    api: ApiClient
    background: list[asyncio.Task[None]]

    async def stop(self) -> None:
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.broker.stop()
        await self.api.close()


def provisioning_config(settings: ProvisionerSettings) -> Provisioning:
    return Provisioning(
        charts_dir=settings.charts_dir,
        base_domain=settings.base_domain,
        quota=settings.quota(),
        deadline_seconds=settings.deadline_seconds,
        ingress_class=settings.ingress_class,
        storage_class=settings.storage_class,
        ingress_tls=settings.ingress_tls,
        ingress_annotations=settings.ingress_annotations,
        installable=frozenset(e for e in get_args(Engine) if (settings.charts_dir / e / "Chart.yaml").is_file()),
        step_seconds=settings.step_seconds(),
        engine_values=settings.engine_values,
    )


@dataclass(frozen=True)
class Adapters:
    """The ports' implementations, connected."""

    cluster: KubernetesCluster
    helm: HelmCli
    directory: StatusDirectory
    publish: Publish
    deletion_requested: DeletionRequested


def adapters(settings: ProvisionerSettings, broker: NatsBroker, api: ApiClient) -> Adapters:
    async def publish(event: Event) -> int:
        return await publish_event(broker, event)

    async def deletion_requested(store_id: str) -> bool:
        return await stream_has(broker.connection.jetstream(), subjects.subject_of(store_id, StoreDeletionRequested))

    cluster = KubernetesCluster(
        api,
        heartbeat_seconds=settings.heartbeat_seconds,
        ingress=IngressController(settings.ingress_namespace, settings.ingress_pod_labels),
    )
    return Adapters(
        cluster=cluster,
        # Helm's own --timeout (hooks, --wait) is the chart step's deadline.
        helm=HelmCli(settings.helm_bin, settings.kubeconfig, timeout=settings.step_seconds()["chart"]),
        directory=StatusDirectory(broker, timeout=settings.query_timeout),
        publish=publish,
        deletion_requested=deletion_requested,
    )


def dependencies(settings: ProvisionerSettings, wired: Adapters) -> Dependencies:
    return Dependencies(
        cluster=wired.cluster,
        helm=wired.helm,
        publish=wired.publish,
        config=provisioning_config(settings),
        directory=wired.directory,
        deletion_requested=wired.deletion_requested,
        max_attempts=settings.max_attempts,
        heartbeat_seconds=settings.heartbeat_seconds,
        stalls=Stalls(figures=wired.directory, publish=wired.publish, floor_seconds=settings.stall_floor_seconds),
    )


async def serve_work_queue(broker: NatsBroker, settings: ProvisionerSettings) -> None:
    """Connect, declare the stream and the shared durable, then start the subscribers."""
    await broker.connect()
    js = broker.connection.jetstream()
    await ensure_stream(js, replicas=settings.stream_replicas)
    # Create the durable, or bring an existing one up to date (new command subjects, limits):
    # the subscriber alone would reuse an existing consumer as it is.
    await js.add_consumer(
        subjects.STREAM,
        work_queue_consumer(max_in_flight=settings.max_in_flight, ack_wait=settings.ack_wait_seconds),
    )
    await start_serving(broker)


def drift_checks(settings: ProvisionerSettings, wired: Adapters) -> list[asyncio.Task[None]]:
    """The reconciler, woken early whenever a store namespace vanishes; none when it is turned off."""
    if settings.drift_check_seconds <= 0:
        return []
    vanished = asyncio.Event()
    reconciling = reconcile_forever(
        directory=wired.directory,
        drift=ClusterDrift(wired.cluster, wired.helm.manifest),
        publish=wired.publish,
        release=RELEASE,
        repair=settings.repair_drift,
        interval=settings.drift_check_seconds,
        wake=vanished,
        round_took=DRIFT_ROUND_SECONDS.observe,
    )
    return [asyncio.create_task(wired.cluster.watch_store_namespaces(vanished)), asyncio.create_task(reconciling)]


async def start(settings: ProvisionerSettings) -> Provisioner:
    broker = make_broker(settings.nats_url, service="provisioner", login=settings.nats_login())
    api = await connect(settings.kubeconfig)
    wired = adapters(settings, broker, api)
    register(
        broker,
        dependencies(settings, wired),
        concurrency=settings.concurrency,
        max_in_flight=settings.max_in_flight,
        ack_wait=settings.ack_wait_seconds,
    )
    await serve_work_queue(broker, settings)
    watching = asyncio.create_task(watch_consumer(broker.connection.jetstream(), subjects.PROVISIONER_DURABLE))
    return Provisioner(broker, api, [*drift_checks(settings, wired), watching])


@asynccontextmanager
async def running(settings: ProvisionerSettings) -> AsyncIterator[Provisioner]:
    """A provisioner started for the time of the `async with`."""
    provisioner = await start(settings)
    try:
        yield provisioner
    finally:
        await provisioner.stop()
