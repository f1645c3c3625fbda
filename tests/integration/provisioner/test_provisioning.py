"""The provisioner against real NATS JetStream and the real local Kubernetes API:
one request becomes a namespace with its guard rails and a ready WooCommerce release,
one event per step; a deletion request removes it all."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from faststream.nats import NatsBroker
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from storeplane_contracts import events, naming
from storeplane_provisioner.bootstrap import running
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.bus import publish_event
from tests.integration.provisioner.support import events_of
from tests.steps import PROVISIONING_STEPS

pytestmark = pytest.mark.integration


async def test_store_is_provisioned_then_deleted(
    nats_url: str, provisioner_settings: ProvisionerSettings, broker: NatsBroker, kubeconfig: Path
) -> None:
    async with running(provisioner_settings):
        store_id = str(uuid.uuid4())
        namespace = naming.namespace_for("it-shop", store_id)
        request = events.StoreRequested(
            store_id=store_id, owner_id="owner-1", name="it-shop", engine="woocommerce", namespace=namespace
        )
        await publish_event(broker, request)
        timeline = await events_of(nats_url, store_id, events.StoreReady)
        types = [type(e).__name__ for e in timeline]
        assert types == PROVISIONING_STEPS, timeline[-1]
        ready = timeline[-1]
        assert isinstance(ready, events.StoreReady)
        assert ready.urls == {
            "storefront": "http://it-shop.stores.localhost/",
            "api": "http://it-shop.stores.localhost/wp-json/wc/store/v1",
            "admin": "http://it-shop.stores.localhost/wp-admin/",
        }

        configuration = client.Configuration()
        await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
        async with client.ApiClient(configuration) as api:
            core = client.CoreV1Api(api)
            ns = await core.read_namespace(namespace)
            assert ns.metadata.labels["storeplane.io/store-id"] == store_id
            assert ns.metadata.labels["storeplane.io/engine"] == "woocommerce"
            # The chart's pods were admitted under the restricted Pod Security Standard.
            assert ns.metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
            quota = await core.read_namespaced_resource_quota("store-quota", namespace)
            assert quota.spec.hard["requests.cpu"] == "2"
            assert (await core.list_namespaced_limit_range(namespace)).items
            policies = await client.NetworkingV1Api(api).list_namespaced_network_policy(namespace)
            assert "store-isolation" in [p.metadata.name for p in policies.items]
            secret = await core.read_namespaced_secret("store-credentials", namespace)
            assert set(secret.data) >= {"db-password", "admin-password"}

            await publish_event(
                broker, events.StoreDeletionRequested(store_id=store_id, owner_id="owner-1", namespace=namespace)
            )
            deletion = await events_of(nats_url, store_id, events.StoreDeleted)
            assert [type(e).__name__ for e in deletion[-3:]] == [
                "StoreDeletionRequested",
                "ReleaseUninstalled",
                "StoreDeleted",
            ]
            with pytest.raises(ApiException) as gone:
                await core.read_namespace(namespace)
            assert gone.value.status == 404


async def test_quota_too_small_fails_with_a_reason(
    nats_url: str, provisioner_settings: ProvisionerSettings, broker: NatsBroker
) -> None:
    settings = provisioner_settings.model_copy(update={"quota_requests_cpu": "10m", "deadline_seconds": 60})
    async with running(settings):
        store_id = str(uuid.uuid4())
        request = events.StoreRequested(
            store_id=store_id,
            owner_id="owner-1",
            name="tiny-shop",
            engine="woocommerce",
            namespace=naming.namespace_for("tiny-shop", store_id),
        )
        await publish_event(broker, request)
        timeline = await events_of(nats_url, store_id, events.StoreReady, timeout=150)
        failure = timeline[-1]
        assert isinstance(failure, events.ProvisioningFailed), failure
        assert (failure.step, failure.reason, failure.retryable) == ("readiness", "quota_exceeded", False)
        assert "exceeded quota" in failure.message and "Deployment/" in failure.message
