"""`storeplane-provisioner`: run the provisioner until SIGINT or SIGTERM."""

from __future__ import annotations

from functools import partial

from storeplane_provisioner.bootstrap import running
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.serving import run_service


def main() -> None:
    settings = ProvisionerSettings()
    run_service("provisioner", settings, partial(running, settings))


if __name__ == "__main__":
    main()
