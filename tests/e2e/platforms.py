"""Starting a whole platform for end-to-end tests: the session's shared one (conftest.py) and those a
test needs with settings of its own (say, a namespace quota that admits no pod)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from infra.local.credentials import local_credentials
from infra.local.platform import ServiceProcess, Telemetry, service_env, start_services
from infra.local.servers import free_port, start_nats


@dataclass(frozen=True)
class MetricsPorts:
    """Where a platform's services serve `/metrics` (chosen before VictoriaMetrics starts to scrape them)."""

    gateway: int = field(default_factory=free_port)
    provisioner: int = field(default_factory=free_port)
    status: int = field(default_factory=free_port)
    notifier: int = field(default_factory=free_port)
    nats_monitoring: int = field(default_factory=free_port)

    def scrape_targets(self) -> dict[str, str]:
        return {job: f"127.0.0.1:{getattr(self, job)}" for job in ("gateway", "provisioner", "status", "notifier")}


@contextmanager
def running_platform(
    root: Path,
    *,
    database_url: str,
    kubeconfig: Path,
    cluster_bin: Path,
    extra: dict[str, str],
    metrics: MetricsPorts | None = None,
    otlp_endpoint: str = "",
    trace_query_url: str = "",
) -> Iterator[str]:
    """Every service on a NATS server of their own (under `root`), each as its own NATS user with the
    signing key and passwords `make up` would make (infra/local/credentials.py); yields the gateway's base URL.
    With `metrics`, every service serves `/metrics` on those ports; with `otlp_endpoint`, spans go there."""
    credentials = local_credentials(root)
    nats_server = start_nats(
        root / "nats",
        authorization=credentials.nats_authorization(),
        monitoring_port=metrics.nats_monitoring if metrics else None,
    )
    port = metrics.gateway if metrics else free_port()
    telemetry = Telemetry(
        provisioner_metrics_port=metrics.provisioner if metrics else 0,
        status_metrics_port=metrics.status if metrics else 0,
        nats_monitoring_url=nats_server.extra.get("monitoring_url", ""),
        otlp_endpoint=otlp_endpoint,
        trace_query_url=trace_query_url,
    )
    env = service_env(
        nats_url=nats_server.url,
        database_url=database_url,
        kubeconfig=kubeconfig,
        helm_bin=cluster_bin / "helm",
        http_port=port,
        notifier_metrics_port=metrics.notifier if metrics else 0,
        telemetry=telemetry,
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
