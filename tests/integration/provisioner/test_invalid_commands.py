"""A command whose names or ids break the naming rules is terminated before Kubernetes or Helm see it.

The gateway validates every name, but anyone allowed to publish on the bus could send a command of
their own: the provisioner checks again (storeplane_contracts.naming.command_problem). Published here
by the privileged test user, they are terminated (never redelivered) and make no Kubernetes object.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.nats import NatsBroker
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from storeplane_contracts import events, naming, subjects
from storeplane_provisioner.bootstrap import running
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.bus import publish_event, stream_has

pytestmark = pytest.mark.integration


@pytest.fixture
async def core(kubeconfig: Path) -> AsyncIterator[client.CoreV1Api]:
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        yield client.CoreV1Api(api)


async def _exists(core: client.CoreV1Api, namespace: str) -> bool:
    try:
        await core.read_namespace(namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _invalid_requests(tag: str) -> list[events.StoreRequested]:
    good_id = str(uuid.uuid4())
    return [
        # Not a store namespace at all: another tenant's, or the platform's.
        events.StoreRequested(
            store_id=good_id, owner_id="o", name="fine-shop", engine="woocommerce", namespace=f"foreign-{tag}"
        ),
        # A name the rules refuse (upper case, underscore), its namespace built from it.
        events.StoreRequested(
            store_id=str(uuid.uuid4()),
            owner_id="o",
            name="Bad_Shop",
            engine="woocommerce",
            namespace=f"store-bad-shop-{tag[:8]}",
        ),
        # Not an id the gateway makes.
        events.StoreRequested(
            store_id=f"not-a-uuid-{tag}",
            owner_id="o",
            name="id-shop",
            engine="woocommerce",
            namespace=f"store-id-{tag}",
        ),
    ]


async def test_invalid_commands_are_terminated_without_any_kubernetes_object(
    provisioner_settings: ProvisionerSettings, broker: NatsBroker, core: client.CoreV1Api
) -> None:
    tag = uuid.uuid4().hex[:8]
    victim = f"victim-{tag}"  # someone else's namespace, which a forged deletion names
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=victim)))
    requests = _invalid_requests(tag)
    deletion = events.StoreDeletionRequested(store_id=str(uuid.uuid4()), owner_id="o", namespace=victim)
    try:
        async with running(provisioner_settings):
            for command in [*requests, deletion]:
                await publish_event(broker, command)
            js = broker.connection.jetstream()
            async with asyncio.timeout(30):  # until the provisioner has settled every command
                while True:
                    info = await js.consumer_info(subjects.STREAM, subjects.PROVISIONER_DURABLE)
                    if info.num_pending == 0 and info.num_ack_pending == 0:
                        break
                    await asyncio.sleep(0.2)
            assert info.num_redelivered == 0  # terminated, not retried
        for command in [*requests, deletion]:
            for answer in (events.ProvisioningStarted, events.NamespaceCreated, events.StoreDeleted):
                assert not await stream_has(js, subjects.subject_of(command.store_id, answer))
        for request in requests:
            assert not await _exists(core, request.namespace), request.namespace
            assert not await _exists(core, naming.namespace_for("fine-shop", request.store_id))
        assert await _exists(core, victim)
    finally:
        for namespace in [victim, *(request.namespace for request in requests)]:
            if await _exists(core, namespace):
                await core.delete_namespace(namespace)
