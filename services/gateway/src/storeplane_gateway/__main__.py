"""`storeplane-gateway`: run the public HTTP API with uvicorn on `http_host:http_port`."""

from __future__ import annotations

import uvicorn

from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings
from storeplane_runtime.logs import setup_logging
from storeplane_runtime.telemetry import setup_tracing


def main() -> None:
    settings = GatewaySettings()
    setup_logging(settings.log_level, json=settings.log_json)
    setup_tracing("gateway")
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        lifespan="on",
        server_header=False,
    )


if __name__ == "__main__":
    main()
