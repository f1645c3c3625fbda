"""The HTTP rows of `make bench`: the bare hello (the baseline), then the gateway's routes, each under
the same load (wrk, 16 connections, 8 s) with the gateway on its own core."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from importlib.metadata import version
from pathlib import Path

import httpx

from bench.load import Cores, Load, wrk
from bench.platform import Platform
from bench.table import Row
from infra.local.servers import free_port, spawn, stop_process, wait_for_port
from storeplane_gateway.http.server import server_config
from storeplane_gateway.settings import GatewaySettings

GROUP = "gateway HTTP"
PASSWORD = "benchmark password"
# POST /stores: a fresh name each request (`bench-<n>`), the token from -H.
_CREATE_LUA = """
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"name": "bench-%d", "engine": "woocommerce"}', n)
  local headers = {["Content-Type"] = "application/json"}
  for name, value in pairs(wrk.headers) do headers[name] = value end  -- wrk.format drops -H otherwise
  return wrk.format("POST", "/api/v1/stores", headers, body)
end
"""


def server_description() -> str:
    """The gateway's HTTP server as `server_config` sets it up (the hello runs on the same)."""
    from bench.hello import app

    settings = GatewaySettings()
    config = server_config(app, settings, host=settings.http_host, port=settings.http_port)
    protocol = config.http if isinstance(config.http, str) else config.http.__mro__[2].__name__
    return f"uvicorn {version('uvicorn')}, {protocol} (with the gateway's edge limits), {config.loop} loop, one process"


def hello_baseline(folder: Path, cores: Cores) -> Load:
    """The bare Litestar hello on the gateway's server and settings, on the server's core."""
    port = free_port()
    env = {"STOREPLANE_HTTP_PORT": str(port), "STOREPLANE_LOG_LEVEL": "WARNING"}
    process = spawn([sys.executable, "-m", "bench.hello"], folder / "hello.log", env={**os.environ, **env})
    try:
        wait_for_port(port, process=process)
        cores.pin_server(process.pid)
        wrk(f"http://127.0.0.1:{port}/", cores, seconds=2)  # warm-up
        return wrk(f"http://127.0.0.1:{port}/", cores)
    finally:
        stop_process(process, signal.SIGTERM, 10)


async def _user_with_store(url: str) -> tuple[str, str]:
    """A registered user's token and one store of theirs, once the status service answers for it."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        session = await client.post("/api/v1/auth/register", json={"email": "bench@example.com", "password": PASSWORD})
        session.raise_for_status()
        token = session.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = await client.post("/api/v1/stores", json={"name": "first", "engine": "woocommerce"}, headers=headers)
        created.raise_for_status()
        store_id = created.json()["id"]
        deadline = time.monotonic() + 30
        while (await client.get(f"/api/v1/stores/{store_id}", headers=headers)).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the status service did not answer for the new store")
            await asyncio.sleep(0.1)
        return token, store_id


def _row(name: str, load: Load, hello: Load, *, target: float | None = None, note: str = "") -> Row:
    failures = load.bad_status + load.socket_errors
    if failures:
        note = f"{failures} of {load.requests} answers failed; " + note
    return Row(
        GROUP, name, load.per_second, "bare hello", hello.per_second,
        p50_ms=load.p50_ms, p99_ms=load.p99_ms, target=target, note=note,
    )  # fmt: skip


def gateway_rows(platform: Platform, cores: Cores, hello: Load) -> list[Row]:
    cores.pin_server(platform.pid("gateway"))
    token, store_id = asyncio.run(_user_with_store(platform.url))
    auth = {"Authorization": f"Bearer {token}"}
    base = platform.url
    rows = [Row(GROUP, "bare hello", hello.per_second, "bare hello", hello.per_second, p50_ms=hello.p50_ms,
                p99_ms=hello.p99_ms)]  # fmt: skip
    wrk(f"{base}/health", cores, seconds=2)  # warm-up
    rows.append(_row("GET /health", wrk(f"{base}/health", cores), hello, target=0.7))
    store = f"{base}/api/v1/stores/{store_id}"
    rows.append(_row("GET /stores/{id}", wrk(store, cores, headers=auth), hello, target=0.15))
    rows.append(_row("GET /stores", wrk(f"{base}/api/v1/stores", cores, headers=auth), hello))
    rows.append(_row("GET /stores/{id}/events", wrk(f"{store}/events", cores, headers=auth), hello))
    rows.append(_row("GET /account", wrk(f"{base}/api/v1/account", cores, headers=auth), hello))
    created = wrk(f"{base}/api/v1/stores", cores, headers=auth, request_lua=_CREATE_LUA)
    rows.append(_row("POST /stores (202 after the JetStream ack)", created, hello, target=0.10))
    return rows
