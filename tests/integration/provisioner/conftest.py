"""Fixtures for provisioner tests against real NATS and the local Kubernetes API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.nats import NatsBroker

from infra.local.servers import Server
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.bus import ensure_stream, make_broker


@pytest.fixture
async def provisioner_settings(
    clean_stream: str, nats_server: Server, kubeconfig: Path, cluster_bin: Path
) -> ProvisionerSettings:
    """The provisioner connects as its own NATS user; a step is noted stalled only near its deadline (a busy
    machine's slow readiness must not change the exact timelines tests expect; test_stalls sets a floor)."""
    return ProvisionerSettings(
        **nats_server.login("provisioner"),
        kubeconfig=kubeconfig,
        helm_bin=str(cluster_bin / "helm"),
        concurrency=2,
        stall_floor_seconds=540,
    )


@pytest.fixture
async def broker(clean_stream: str) -> AsyncIterator[NatsBroker]:
    broker = make_broker(clean_stream, service="test")
    await broker.connect()
    await ensure_stream(broker.connection.jetstream())
    yield broker
    await broker.stop()
