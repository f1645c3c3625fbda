"""`make up`: the whole platform on this machine, in the foreground, until Ctrl-C.

NATS (JetStream, state in .storeplane/nats), Postgres (.storeplane/postgres), the local
Kubernetes cluster (.storeplane/cluster) and the four services. State is kept between
runs; `make cluster-down` and removing .storeplane/ start afresh.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

from infra.cluster import cluster
from infra.local.credentials import local_credentials
from infra.local.platform import service_env, start_services
from infra.local.servers import start_nats, start_postgres
from infra.local.supervision import Supervisor
from storeplane_runtime.settings import STATE_DIR


def main() -> int:
    http_port = int(os.environ.get("STOREPLANE_HTTP_PORT", "8080"))
    nats_port = int(os.environ.get("STOREPLANE_NATS_PORT", "4222"))
    pg_port = int(os.environ.get("STOREPLANE_POSTGRES_PORT", "5433"))
    notifier_metrics_port = int(os.environ.get("STOREPLANE_NOTIFIER_METRICS_PORT", "9102"))
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
        # The signing key and the NATS passwords: random on first start, then kept in .storeplane/secrets/.
        credentials = local_credentials(STATE_DIR)
        nats = start_nats(STATE_DIR / "nats", nats_port, authorization=credentials.nats_authorization())
        running.callback(nats.stop)
        postgres = start_postgres(STATE_DIR / "postgres", pg_port)
        running.callback(postgres.stop)
        env = service_env(
            nats_url=nats.url,
            database_url=postgres.url,
            kubeconfig=layout.kubeconfig,
            helm_bin=bin_dir / "helm",
            http_port=http_port,
            notifier_metrics_port=notifier_metrics_port,
        )
        services = start_services(env, STATE_DIR / "logs", echo=True, own_env=credentials.service_env)
        supervisor = Supervisor(services)
        running.callback(supervisor.stop_all)  # what runs then: a restarted service is another process
        running.callback(print, "stopping...", file=sys.stderr, flush=True)
        print(welcome(http_port, layout.kubeconfig, bin_dir, postgres.url), flush=True)
        supervisor.run_until(stop_requested())
        return 0


def welcome(http_port: int, kubeconfig: Path, bin_dir: Path, database_url: str) -> str:
    """What runs where, and the first commands to try."""
    api = f"http://127.0.0.1:{http_port}"
    return f"""
Storeplane is up.
  API          {api}/api/v1
  API docs     {api}/schema/swagger   (OpenAPI: {api}/schema/openapi.json)
  metrics      {api}/metrics   (webhook deliveries: http://127.0.0.1:9102/metrics)
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
