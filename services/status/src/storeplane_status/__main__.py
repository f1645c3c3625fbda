"""`storeplane-status`: run the status service until SIGINT or SIGTERM."""

from __future__ import annotations

from functools import partial

from storeplane_runtime.serving import run_service
from storeplane_status.bootstrap import bootstrap
from storeplane_status.settings import StatusSettings


def main() -> None:
    settings = StatusSettings()
    run_service("status", settings, partial(bootstrap, settings))


if __name__ == "__main__":
    main()
