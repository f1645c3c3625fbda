"""`make up`: the whole platform on this machine, in the foreground, until Ctrl-C.

NATS (JetStream, state in .storeplane/nats), Postgres (.storeplane/postgres), the local
Kubernetes cluster (.storeplane/cluster), Jaeger (traces, in memory), VictoriaMetrics
(.storeplane/victoria-metrics, scraping every service) and the four services. State is kept
between runs; `make cluster-down` and removing .storeplane/ start afresh.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from infra.cluster import cluster
from infra.local.credentials import local_credentials
from infra.local.observability import JaegerPorts, start_jaeger, start_victoria_metrics
from infra.local.platform import ServiceProcess, Telemetry, service_env, start_services
from infra.local.servers import start_nats, start_postgres
from infra.local.supervision import Supervisor
from storeplane_runtime.settings import STATE_DIR


def _port(name: str, default: int) -> int:
    return int(os.environ.get(f"STOREPLANE_{name}_PORT", str(default)))


@dataclass(frozen=True)
class Ports:
    """Every port `make up` listens on (all on 127.0.0.1), each overridable by `STOREPLANE_<NAME>_PORT`."""

    http: int
    nats: int
    nats_monitoring: int
    postgres: int
    notifier_metrics: int
    provisioner_metrics: int
    status_metrics: int
    victoria_metrics: int
    jaeger: JaegerPorts

    @classmethod
    def from_env(cls) -> Ports:
        return cls(
            http=_port("HTTP", 8080),
            nats=_port("NATS", 4222),
            nats_monitoring=_port("NATS_MONITORING", 8222),
            postgres=_port("POSTGRES", 5433),
            notifier_metrics=_port("NOTIFIER_METRICS", 9102),
            provisioner_metrics=_port("PROVISIONER_METRICS", 9103),
            status_metrics=_port("STATUS_METRICS", 9104),
            victoria_metrics=_port("VICTORIA_METRICS", 8428),
            jaeger=JaegerPorts(
                otlp_grpc=_port("OTLP_GRPC", 4317),
                otlp_http=_port("OTLP_HTTP", 4318),
                query_http=_port("JAEGER_QUERY", 16686),
                query_grpc=_port("JAEGER_QUERY_GRPC", 16685),
            ),
        )

    def scrape_targets(self) -> dict[str, str]:
        """What VictoriaMetrics scrapes: every service's `/metrics` (the status service's carries NATS's)."""
        return {
            "gateway": f"127.0.0.1:{self.http}",
            "provisioner": f"127.0.0.1:{self.provisioner_metrics}",
            "status": f"127.0.0.1:{self.status_metrics}",
            "notifier": f"127.0.0.1:{self.notifier_metrics}",
            "victoria-metrics": f"127.0.0.1:{self.victoria_metrics}",
        }


def main() -> int:
    ports = Ports.from_env()
    STATE_DIR.mkdir(exist_ok=True)
    STATE_DIR.chmod(0o755)  # Postgres runs as the `postgres` user when we are root

    layout = cluster.Layout(cluster.DEFAULT_DIR)
    # Whatever started is stopped again, in reverse order, also when a later part fails to start.
    with contextlib.ExitStack() as running:
        # A cluster that already ran (`make cluster-up`, the tests' session) is left running on exit.
        already_running = any(cluster.running_pid(layout, component) for component in cluster.COMPONENTS)
        cluster.up(layout)  # a failed up stops what it started itself
        if not already_running:
            running.callback(cluster.stop_all, layout)
        bin_dir = cluster.binaries()
        services = start_platform(
            running, ports, STATE_DIR, kubeconfig=layout.kubeconfig, helm_bin=bin_dir / "helm", echo=True
        )
        supervisor = Supervisor(services)
        running.callback(supervisor.stop_all)  # what runs then: a restarted service is another process
        running.callback(print, "stopping...", file=sys.stderr, flush=True)
        database_url = f"postgresql://storeplane@127.0.0.1:{ports.postgres}/storeplane"  # start_postgres's
        print(welcome(ports, layout.kubeconfig, bin_dir, database_url), flush=True)
        supervisor.run_until(stop_requested())
        return 0


def start_platform(
    running: contextlib.ExitStack, ports: Ports, state_dir: Path, *, kubeconfig: Path, helm_bin: Path, echo: bool
) -> list[ServiceProcess]:
    """NATS, Postgres, Jaeger, VictoriaMetrics and the four services on `ports`, their state in `state_dir`
    (the cluster is the caller's); each is stopped when `running` closes, in reverse order."""
    # The signing key and the NATS passwords: random on first start, then kept in <state_dir>/secrets/.
    credentials = local_credentials(state_dir)
    nats = start_nats(
        state_dir / "nats",
        ports.nats,
        authorization=credentials.nats_authorization(),
        monitoring_port=ports.nats_monitoring,
    )
    running.callback(nats.stop)
    postgres = start_postgres(state_dir / "postgres", ports.postgres)
    running.callback(postgres.stop)
    jaeger = start_jaeger(state_dir / "jaeger", ports.jaeger)
    running.callback(jaeger.stop)
    metrics = start_victoria_metrics(
        state_dir / "victoria-metrics", ports.victoria_metrics, targets=ports.scrape_targets()
    )
    running.callback(metrics.stop)
    telemetry = Telemetry(
        provisioner_metrics_port=ports.provisioner_metrics,
        status_metrics_port=ports.status_metrics,
        nats_monitoring_url=nats.extra["monitoring_url"],
        otlp_endpoint=jaeger.extra["otlp_http"],
        trace_query_url=jaeger.url,
    )
    env = service_env(
        nats_url=nats.url,
        database_url=postgres.url,
        kubeconfig=kubeconfig,
        helm_bin=helm_bin,
        http_port=ports.http,
        notifier_metrics_port=ports.notifier_metrics,
        telemetry=telemetry,
    )
    return start_services(env, state_dir / "logs", echo=echo, own_env=credentials.service_env)


def welcome(ports: Ports, kubeconfig: Path, bin_dir: Path, database_url: str) -> str:
    """What runs where, and the first commands to try."""
    api = f"http://127.0.0.1:{ports.http}"
    vm = f"http://127.0.0.1:{ports.victoria_metrics}"
    return f"""
Storeplane is up.
  dashboard    {api}/   (sign up there; see docs/dashboard.md)
  API          {api}/api/v1
  API docs     {api}/schema/swagger   (OpenAPI: {api}/schema/openapi.json)
  metrics UI   {vm}/vmui/   (dashboards: {vm}/vmui/#/dashboards; see docs/observability.md)
  traces       http://127.0.0.1:{ports.jaeger.query_http}/api/services   (Jaeger's query API; a store's trace:
                 GET {api}/api/v1/stores/<id>/trace)
  /metrics     gateway {api}/metrics, provisioner :{ports.provisioner_metrics}, status :{ports.status_metrics}, \\
notifier :{ports.notifier_metrics}
  webhooks     uv run python -m storeplane_notifier.receiver --secret whsec_... --port 9000   (see docs/webhooks.md)
  kubectl      export KUBECONFIG={kubeconfig}; {bin_dir}/kubectl get ns
  get a token  curl -s -X POST {api}/api/v1/auth/register -H 'Content-Type: application/json' \\
                 -d '{{"email": "me@example.com", "password": "a-long-password"}}'
  make it admin STOREPLANE_DATABASE_URL={database_url} \\
                 uv run storeplane-gateway admin grant me@example.com
  secrets      .storeplane/secrets/ (signing key; NATS passwords, `reader` for integrations)
A service that exits is started again (logged here). Press Ctrl-C to stop everything.
"""


def stop_requested() -> threading.Event:
    """Set by Ctrl-C or SIGTERM: the only ways to stop the platform (a service's exit restarts it)."""
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    return stopped


if __name__ == "__main__":
    sys.exit(main())
