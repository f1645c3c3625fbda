"""`storeplane-provisioner`: run the provisioner until SIGINT or SIGTERM."""

from __future__ import annotations

from functools import partial

from storeplane_provisioner.bootstrap import running
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.metrics import MetricsServer
from storeplane_runtime.serving import run_service


def main() -> None:
    settings = ProvisionerSettings()
    metrics = MetricsServer(settings.provisioner_metrics_host, settings.provisioner_metrics_port)
    run_service("provisioner", settings, partial(running, settings), metrics=metrics)


if __name__ == "__main__":
    main()
