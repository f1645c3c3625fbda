"""The provisioner's composition root: the only place that connects to NATS and Kubernetes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import get_args

from faststream.nats import NatsBroker
from kubernetes_asyncio.client import ApiClient

from storeplane_contracts import subjects
from storeplane_contracts.events import Engine, Event, StoreDeletionRequested
from storeplane_provisioner.cluster import ClusterDrift, IngressController, KubernetesCluster, connect
from storeplane_provisioner.directory import StatusDirectory
from storeplane_provisioner.drifting import reconcile_forever
from storeplane_provisioner.handlers import RELEASE, Provisioning
from storeplane_provisioner.helm import HelmCli
from storeplane_provisioner.processing import Dependencies
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_provisioner.subscribers import register, work_queue_consumer
from storeplane_runtime.bus import ensure_stream, make_broker, publish_event, start_serving, stream_has


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


async def start(settings: ProvisionerSettings) -> Provisioner:
    broker = make_broker(settings.nats_url, service="provisioner")
    api = await connect(settings.kubeconfig)

    async def publish(event: Event) -> int:
        return await publish_event(broker, event)

    async def deletion_requested(store_id: str) -> bool:
        return await stream_has(broker.connection.jetstream(), subjects.subject_of(store_id, StoreDeletionRequested))

    cluster = KubernetesCluster(
        api,
        heartbeat_seconds=settings.heartbeat_seconds,
        ingress=IngressController(settings.ingress_namespace, settings.ingress_pod_labels),
    )
    # Helm's own --timeout (hooks, --wait) is the chart step's deadline.
    helm = HelmCli(settings.helm_bin, settings.kubeconfig, timeout=settings.step_seconds()["chart"])
    directory = StatusDirectory(broker, timeout=settings.query_timeout)
    deps = Dependencies(
        cluster=cluster,
        helm=helm,
        publish=publish,
        config=provisioning_config(settings),
        directory=directory,
        deletion_requested=deletion_requested,
        max_attempts=settings.max_attempts,
        heartbeat_seconds=settings.heartbeat_seconds,
    )
    register(
        broker,
        deps,
        concurrency=settings.concurrency,
        max_in_flight=settings.max_in_flight,
        ack_wait=settings.ack_wait_seconds,
    )
    await broker.connect()
    js = broker.connection.jetstream()
    await ensure_stream(js)
    # Create the durable, or bring an existing one up to date (new command subjects, limits):
    # the subscriber alone would reuse an existing consumer as it is.
    await js.add_consumer(
        subjects.STREAM,
        work_queue_consumer(max_in_flight=settings.max_in_flight, ack_wait=settings.ack_wait_seconds),
    )
    await start_serving(broker)
    background: list[asyncio.Task[None]] = []
    if settings.drift_check_seconds > 0:
        vanished = asyncio.Event()
        background.append(asyncio.create_task(cluster.watch_store_namespaces(vanished)))
        background.append(
            asyncio.create_task(
                reconcile_forever(
                    directory=directory,
                    drift=ClusterDrift(cluster, helm.manifest),
                    publish=publish,
                    release=RELEASE,
                    repair=settings.repair_drift,
                    interval=settings.drift_check_seconds,
                    wake=vanished,
                )
            )
        )
    return Provisioner(broker, api, background)
