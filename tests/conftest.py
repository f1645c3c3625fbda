"""Session-wide real servers for the integration and end-to-end tiers.

NATS (JetStream) and Postgres are started here on loopback, in a temporary folder, and
stopped at the end of the session. Unit tests never ask for them, so they stay fast.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.js.errors import NotFoundError

from infra.local.observability import start_jaeger
from infra.local.servers import Server, start_nats, start_postgres
from storeplane_contracts import subjects
from storeplane_contracts.permissions import USER_NAMES, server_config

# The tests' own privileged NATS user (publishes anything, e.g. an invalid command); the services
# connect as their own users, with the permissions of storeplane_contracts.permissions.
TEST_USER = "test"


def nats_passwords() -> dict[str, str]:
    """A random password for every user of the permission table and the test user: never a constant."""
    return {name: secrets.token_urlsafe(18) for name in (*USER_NAMES, TEST_USER)}


def start_nats_with_users(state_dir: Path) -> Server:
    """NATS with every service's user; its `url` logs in as the privileged test user, and
    `extra` holds each user's password (see `Server.login`)."""
    passwords = nats_passwords()
    authorization = server_config(passwords, superusers=(TEST_USER,))
    server = start_nats(state_dir, authorization=authorization, login=(TEST_USER, passwords[TEST_USER]))
    server.extra.update(passwords)
    return server


@pytest.fixture(scope="session")
def servers_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="storeplane-test-"))
    path.chmod(0o755)  # the Postgres server runs as the `postgres` user when we are root
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def nats_server(servers_dir: Path) -> Iterator[Server]:
    server = start_nats_with_users(servers_dir / "nats")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def jaeger(servers_dir: Path) -> Iterator[Server]:
    """A real Jaeger v2, the trace backend of the e2e platform and of the fuzzed gateway (built once by
    infra/observability/build.sh; a failed build fails the tests, saying why)."""
    server = start_jaeger(servers_dir / "jaeger")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server(servers_dir: Path) -> Iterator[Server]:
    server = start_postgres(servers_dir / "postgres", durable=False)
    yield server
    server.stop()


@pytest.fixture
def nats_url(nats_server: Server) -> str:
    return nats_server.url


@pytest.fixture
async def clean_stream(nats_server: Server) -> AsyncIterator[str]:
    """The NATS URL, with the STORES stream and its consumers removed before the test."""
    nc = await nats.connect(nats_server.url)
    with contextlib.suppress(NotFoundError):
        await nc.jetstream().delete_stream(subjects.STREAM)
    await nc.close()
    yield nats_server.url


@pytest.fixture
async def database_url(postgres_server: Server) -> AsyncIterator[str]:
    """A new, empty database for each test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server.extra["admin_url"])
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield postgres_server.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[Path]:
    """The local control plane's kubeconfig: a running cluster is reused, else one is started
    for the session (and stopped after it)."""
    from infra.cluster import cluster

    layout = cluster.Layout(cluster.DEFAULT_DIR)
    # Someone else's cluster, even a half-running one, is completed but never removed.
    someone_elses = any(cluster.running_pid(layout, c) for c in cluster.COMPONENTS)
    cluster.up(layout)
    yield layout.kubeconfig
    if not someone_elses:
        cluster.down(layout)


@pytest.fixture(scope="session")
def cluster_bin() -> Path:
    """The folder with the cached kubectl and helm binaries."""
    from infra.cluster import cluster

    return cluster.binaries()
