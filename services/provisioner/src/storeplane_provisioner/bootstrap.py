"""The provisioner's composition root: the only place that connects to NATS and Kubernetes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from faststream.nats import NatsBroker
from kubernetes_asyncio.client import ApiClient

from storeplane_contracts import subjects
from storeplane_contracts.events import Engine, Event
from storeplane_provisioner.cluster import KubernetesCluster, connect
from storeplane_provisioner.handlers import Provisioning
from storeplane_provisioner.helm import HelmCli
from storeplane_provisioner.processing import Dependencies
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_provisioner.subscribers import register, work_queue_consumer
from storeplane_runtime.bus import ensure_stream, make_broker, publish_event


@dataclass
class Provisioner:
    """A running provisioner: its broker and Kubernetes client."""

    broker: NatsBroker
    api: ApiClient

    async def stop(self) -> None:
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
    )


async def start(settings: ProvisionerSettings) -> Provisioner:
    broker = make_broker(settings.nats_url, service="provisioner")
    api = await connect(settings.kubeconfig)

    async def publish(event: Event) -> int:
        return await publish_event(broker, event)

    deps = Dependencies(
        cluster=KubernetesCluster(api, heartbeat_seconds=settings.heartbeat_seconds),
        helm=HelmCli(settings.helm_bin, settings.kubeconfig),
        publish=publish,
        config=provisioning_config(settings),
        max_attempts=settings.max_attempts,
    )
    register(broker, deps, concurrency=settings.concurrency, ack_wait=settings.ack_wait_seconds)
    await broker.connect()
    js = broker.connection.jetstream()
    await ensure_stream(js)
    # Create the durable, or bring an existing one up to date (new command subjects, limits):
    # the subscriber alone would reuse an existing consumer as it is.
    await js.add_consumer(
        subjects.STREAM,
        work_queue_consumer(concurrency=settings.concurrency, ack_wait=settings.ack_wait_seconds),
    )
    await broker.start()
    return Provisioner(broker, api)
