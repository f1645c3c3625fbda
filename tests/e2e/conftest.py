"""The whole platform as a user runs it: the three services as separate processes, on the
session's real NATS, Postgres and Kubernetes, reached only through the gateway's HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from infra.local.servers import Server
from tests.e2e.platforms import running_platform


@pytest.fixture(scope="session")
def platform(postgres_server: Server, kubeconfig: Path, cluster_bin: Path, servers_dir: Path) -> Iterator[str]:
    """The gateway's base URL, with every service running on a NATS server of its own, each as its
    own NATS user, with the signing key and passwords `make up` would make (infra/local/credentials.py)."""
    extra = {
        "STOREPLANE_DRIFT_CHECK_SECONDS": "3",
        # Short enough for the stuck-deletion test to see its note soon, long enough for a normal deletion.
        "STOREPLANE_STEP_DEADLINES": '{"namespace_deletion": 15}',
    }
    root = servers_dir / "e2e"
    with running_platform(
        root, database_url=postgres_server.url, kubeconfig=kubeconfig, cluster_bin=cluster_bin, extra=extra
    ) as url:
        yield url


@pytest.fixture
async def http(platform: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform, timeout=30) as client:
        yield client
