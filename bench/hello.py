"""The baseline of `make bench`: a bare Litestar "hello", served by the gateway's own HTTP server with the
gateway's settings (`storeplane_gateway.http.server.server_config`), so that a gateway figure over this one
is what the gateway's own work costs. `python -m bench.hello` (STOREPLANE_HTTP_PORT says where)."""

from __future__ import annotations

import contextlib

import uvicorn
from litestar import Litestar, get

from storeplane_gateway.http.server import server_config
from storeplane_gateway.settings import GatewaySettings


@get("/", sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"hello": "world"}


app = Litestar([hello], logging_config=None)


def main() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        settings = GatewaySettings()
        uvicorn.Server(server_config(app, settings, host=settings.http_host, port=settings.http_port)).run()


if __name__ == "__main__":
    main()
