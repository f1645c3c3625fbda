"""The `storeplane-gateway` command serves the API over real HTTP and stops cleanly on Ctrl-C;
`storeplane-gateway admin grant|revoke|list` is how an operator makes and unmakes admins."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.local.servers import free_port, spawn, wait_for_port
from storeplane_contracts.events import StoreRequested
from tests.integration.gateway.support import StatusResponder, stored_events, wait_until_ready
from tests.unit.gateway.helpers import assert_error, log_in, sign_up

pytestmark = pytest.mark.integration


def gateway_command() -> list[str | Path]:
    script = Path(sys.executable).parent / "storeplane-gateway"
    return [script] if script.exists() else [sys.executable, "-m", "storeplane_gateway"]


async def test_the_gateway_runs_as_a_process(
    tmp_path: Path, clean_stream: str, database_url: str, status_responder: StatusResponder
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "STOREPLANE_HTTP_PORT": str(port),
        "STOREPLANE_NATS_URL": clean_stream,
        "STOREPLANE_DATABASE_URL": database_url,
    }
    log = tmp_path / "gateway.log"
    process = spawn(gateway_command(), log, env=env)
    try:
        await asyncio.to_thread(wait_for_port, port, process=process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_until_ready(client)
            account = await sign_up(client)
            response = await client.post(
                "/api/v1/stores", json={"name": "shop-one", "engine": "woocommerce"}, headers=account.headers
            )
            assert response.status_code == 202, response.text
            assert len(response.headers["x-trace-id"]) == 32
            assert (await client.get("/schema/openapi.json")).status_code == 200
        [(_, event)] = await stored_events(clean_stream, expected=1)
        assert isinstance(event, StoreRequested) and event.store_id == response.json()["id"]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            returncode = await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    output = log.read_text()
    assert returncode == 0, output
    assert "Traceback" not in output, output


def test_production_mode_refuses_to_start_with_the_development_key(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STOREPLANE_")}
    env["STOREPLANE_ENV"] = "production"
    result = subprocess.run(gateway_command(), env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "refusing to start" in result.stderr and "STOREPLANE_JWT_SECRET" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


async def _admin_command(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STOREPLANE_")}
    env["STOREPLANE_DATABASE_URL"] = database_url
    command = [*gateway_command(), "admin", *arguments]
    return await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_the_operator_grants_and_revokes_the_admin_role_with_the_command(
    gateway: AsyncTestClient[Litestar], database_url: str
) -> None:
    ada = await sign_up(gateway, "ada@example.com")
    assert ada.role == "user"

    granted = await _admin_command(database_url, "grant", "Ada@Example.com")
    assert granted.returncode == 0, granted.stderr
    assert f"ada@example.com ({ada.id}) is now an admin" in granted.stdout
    assert (await _admin_command(database_url, "list")).stdout == f"ada@example.com\t{ada.id}\n"
    admin = await log_in(gateway, "ada@example.com")
    assert admin.role == "admin"
    assert (await gateway.get("/api/v1/admin/audit", headers=admin.headers)).status_code == 200

    unknown = await _admin_command(database_url, "grant", "eve@example.com")
    assert unknown.returncode == 1 and "no account is registered with 'eve@example.com'" in unknown.stderr

    revoked = await _admin_command(database_url, "revoke", "ada@example.com")
    assert revoked.returncode == 0, revoked.stderr
    assert "is no longer an admin; 2 session(s) ended" in revoked.stdout
    assert_error(await gateway.get("/api/v1/admin/audit", headers=admin.headers), 401, "not_authenticated")
    assert (await log_in(gateway, "ada@example.com")).role == "user"
    assert (await _admin_command(database_url, "list")).stdout == ""
