"""The platform `make bench` measures: its own NATS (with the platform's users and permissions) and
Postgres in a temporary folder, on free loopback ports, and the services it needs, with the rate limits
off and a quota no run reaches, so that what is measured is the work, not the limits."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infra.cluster import cluster
from infra.local.credentials import local_credentials
from infra.local.platform import ServiceProcess, service_env, start_service, wait_http
from infra.local.servers import Server, free_port, start_nats, start_postgres

# Limits off (0) and a quota high enough for every store a run orders.
UNLIMITED = {
    "STOREPLANE_AUTH_REQUESTS_PER_MINUTE_PER_ADDRESS": "0",
    "STOREPLANE_STORE_CREATES_PER_MINUTE_PER_USER": "0",
    "STOREPLANE_STORE_CREATES_PER_MINUTE_PER_ADDRESS": "0",
    "STOREPLANE_WEBHOOK_COMMANDS_PER_MINUTE_PER_USER": "0",
    "STOREPLANE_WEBHOOK_COMMANDS_PER_MINUTE_PER_ADDRESS": "0",
    "STOREPLANE_MAX_STORES_PER_USER": "1000000",
    "STOREPLANE_LOG_LEVEL": "WARNING",
}


@dataclass
class Servers:
    """NATS and Postgres of one bench run, and the credentials its services log in with."""

    folder: Path
    nats: Server
    postgres: Server
    passwords: dict[str, str] = field(default_factory=dict)

    def database(self, name: str) -> str:
        """The URL of another database on the same server (created by whoever uses it)."""
        return self.postgres.url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def servers(folder: Path) -> Iterator[Servers]:
    credentials = local_credentials(folder)
    nats_server = start_nats(folder / "nats", authorization=credentials.nats_authorization())
    nats_server.extra.update(credentials.nats_passwords)
    try:
        postgres = start_postgres(folder / "postgres", durable=False)
        try:
            yield Servers(folder, nats_server, postgres, credentials.nats_passwords)
        finally:
            postgres.stop()
    finally:
        nats_server.stop()


@dataclass
class Platform:
    """Services started on `Servers`; `url` is the gateway's, when it runs."""

    url: str
    processes: dict[str, ServiceProcess]

    def pid(self, name: str) -> int:
        return self.processes[name].process.pid


@contextlib.contextmanager
def services(
    running: Servers, names: Sequence[str], *, database: str = "", extra: dict[str, str] | None = None
) -> Iterator[Platform]:
    """Start `names` (in order; the gateway last, as `make up` does) and wait until the gateway is ready."""
    credentials = local_credentials(running.folder)
    port = free_port()
    layout = cluster.Layout(cluster.DEFAULT_DIR)
    if "provisioner" in names:
        cluster.up(layout)  # the shared cluster as it runs, or started (it may have been stopped meanwhile)
    env = service_env(
        nats_url=running.nats.login("gateway")["nats_url"],
        database_url=database or running.postgres.url,
        kubeconfig=layout.kubeconfig,
        helm_bin=cluster.binaries() / "helm",
        http_port=port,
        extra={**UNLIMITED, **(extra or {})},
    )
    started: dict[str, ServiceProcess] = {}
    try:
        for name in names:
            started[name] = start_service(name, {**env, **credentials.service_env(name)}, running.folder / "logs")
        if "gateway" in started:
            wait_http(f"http://127.0.0.1:{port}/ready", processes=list(started.values()))
        yield Platform(f"http://127.0.0.1:{port}", started)
    finally:
        for process in reversed(started.values()):
            process.stop()
