"""A store request that reaches the provisioner after the store's deletion (redelivered after a
crash, or a retry racing a delete) creates nothing: the provisioner asks the stream itself."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from faststream.nats import NatsBroker
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from storeplane_contracts import events, naming, subjects
from storeplane_provisioner.bootstrap import running
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.bus import publish_event, stream_has
from tests.integration.provisioner.support import events_of

pytestmark = pytest.mark.integration


async def test_a_request_arriving_after_the_deletion_creates_nothing(
    nats_url: str, provisioner_settings: ProvisionerSettings, broker: NatsBroker, kubeconfig: Path
) -> None:
    async with running(provisioner_settings):
        store_id = str(uuid.uuid4())
        namespace = naming.namespace_for("late-shop", store_id)
        await publish_event(broker, events.StoreDeletionRequested(store_id=store_id, owner_id="o", namespace=namespace))
        await events_of(nats_url, store_id, events.StoreDeleted)
        late = events.StoreRequested(
            store_id=store_id, owner_id="o", name="late-shop", engine="woocommerce", namespace=namespace
        )
        await publish_event(broker, late)

        js = broker.connection.jetstream()
        async with asyncio.timeout(30):  # until the provisioner has acked every command
            while True:
                info = await js.consumer_info(subjects.STREAM, subjects.PROVISIONER_DURABLE)
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    break
                await asyncio.sleep(0.2)

    for step in (events.ProvisioningStarted, events.NamespaceCreated):
        assert not await stream_has(broker.connection.jetstream(), subjects.subject_of(store_id, step))
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        with pytest.raises(ApiException) as missing:
            await client.CoreV1Api(api).read_namespace(namespace)
    assert missing.value.status == 404
