"""`storeplane-gateway`: run the public HTTP API with uvicorn on `http_host:http_port`.

In production mode it refuses to start with settings fit only for development (the default
JWT key above all), saying which and how to fix them.
"""

from __future__ import annotations

import sys

import uvicorn

from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings, InsecureConfiguration
from storeplane_runtime.logs import setup_logging
from storeplane_runtime.telemetry import setup_tracing


def main() -> None:
    settings = GatewaySettings()
    setup_logging(settings.log_level, json=settings.log_json)
    try:
        app = create_app(settings)
    except InsecureConfiguration as exc:
        sys.exit(f"storeplane-gateway: refusing to start: {exc}")
    setup_tracing("gateway")
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        lifespan="on",
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


if __name__ == "__main__":
    main()
