"""`storeplane-notifier`: run the notifier until SIGINT or SIGTERM."""

from __future__ import annotations

from functools import partial

from storeplane_notifier.bootstrap import bootstrap
from storeplane_notifier.settings import NotifierSettings
from storeplane_runtime.serving import run_service


def main() -> None:
    settings = NotifierSettings()
    run_service("notifier", settings, partial(bootstrap, settings))


if __name__ == "__main__":
    main()
