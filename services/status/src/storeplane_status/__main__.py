"""`storeplane-status`: run the status service until SIGINT or SIGTERM."""

from __future__ import annotations

from functools import partial

from storeplane_runtime.metrics import MetricsServer
from storeplane_runtime.nats_monitoring import register_nats_monitoring
from storeplane_runtime.serving import run_service
from storeplane_status.bootstrap import bootstrap
from storeplane_status.settings import StatusSettings


def main() -> None:
    settings = StatusSettings()
    register_nats_monitoring(settings.nats_monitoring_url)
    metrics = MetricsServer(settings.status_metrics_host, settings.status_metrics_port)
    run_service("status", settings, partial(bootstrap, settings), metrics=metrics)


if __name__ == "__main__":
    main()
