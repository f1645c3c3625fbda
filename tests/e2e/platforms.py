"""Starting a whole platform for end-to-end tests: the session's shared one (conftest.py) and those a
test needs with settings of its own (say, a namespace quota that admits no pod)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.local.credentials import local_credentials
from infra.local.platform import ServiceProcess, service_env, start_services
from infra.local.servers import free_port, start_nats


@contextmanager
def running_platform(
    root: Path, *, database_url: str, kubeconfig: Path, cluster_bin: Path, extra: dict[str, str]
) -> Iterator[str]:
    """Every service on a NATS server of their own (under `root`), each as its own NATS user with the
    signing key and passwords `make up` would make (infra/local/credentials.py); yields the gateway's base URL."""
    credentials = local_credentials(root)
    nats_server = start_nats(root / "nats", authorization=credentials.nats_authorization())
    port = free_port()
    env = service_env(
        nats_url=nats_server.url,
        database_url=database_url,
        kubeconfig=kubeconfig,
        helm_bin=cluster_bin / "helm",
        http_port=port,
        extra=extra,
    )
    try:
        services: list[ServiceProcess] = start_services(env, root / "logs", own_env=credentials.service_env)
    except BaseException:
        nats_server.stop()
        raise
    yield f"http://127.0.0.1:{port}"
    for service in services:
        service.stop()
    nats_server.stop()
