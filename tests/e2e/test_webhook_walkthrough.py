"""The walk-through of docs/api.md with a webhook, on the whole platform (the four services as processes, the
real cluster): a webhook to the project's local receiver (`python -m storeplane_notifier.receiver`), a
store ordered, and the signed `store.ready` arriving and verified, logged in the endpoint's deliveries.
The AsyncAPI document the platform serves lists every event subject."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.local.servers import free_port
from storeplane_contracts.events import EVENT_TYPES
from storeplane_contracts.subjects import event_token
from tests.e2e.test_store_lifecycle import register, wait_for_store

pytestmark = pytest.mark.e2e


class ReceiverProcess:
    """`python -m storeplane_notifier.receiver --port P --secret S`, as docs/api.md starts it; its output in a file."""

    def __init__(self, output: Path, port: int, secret: str) -> None:
        self.output = output
        command = [sys.executable, "-m", "storeplane_notifier.receiver", "--port", str(port), "--secret", secret]
        with output.open("w") as out:
            self.popen = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    def printed(self) -> str:
        return self.output.read_text()

    def stop(self) -> None:
        self.popen.kill()
        self.popen.wait()


@pytest.fixture
def receiver_output() -> Iterator[list[ReceiverProcess]]:
    started: list[ReceiverProcess] = []
    yield started
    for receiver in started:
        receiver.stop()


async def test_a_webhook_to_the_local_receiver_gets_the_signed_store_ready(
    http: httpx.AsyncClient, tmp_path: Path, receiver_output: list[ReceiverProcess]
) -> None:
    auth = await register(http)
    port = free_port()
    made = await http.post(
        "/api/v1/webhooks",
        json={"url": f"http://127.0.0.1:{port}/hooks", "events": ["store.ready", "store.failed"]},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    secret, webhook_id = made.json()["secret"], made.json()["id"]
    receiver = ReceiverProcess(tmp_path / "receiver.out", port, secret)
    receiver_output.append(receiver)

    name = f"hook-{uuid.uuid4().hex[:6]}"
    ordered = await http.post("/api/v1/stores", json={"name": name, "engine": "woocommerce"}, headers=auth)
    assert ordered.status_code == 202, ordered.text
    store = await wait_for_store(http, ordered.headers["location"], auth, lambda s: s.get("status") == "ready")

    async with asyncio.timeout(60):
        while "store.ready" not in receiver.printed():  # noqa: ASYNC110 - the receiver is another process
            await asyncio.sleep(0.2)
    printed = receiver.printed()
    [line] = [line for line in printed.splitlines() if line.startswith("store.ready ")]
    assert line.endswith("verified=True -> 204"), printed
    assert store["id"] in printed and name in printed

    deliveries = await http.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=auth)
    assert deliveries.status_code == 200, deliveries.text
    [delivery] = [d for d in deliveries.json()["deliveries"] if d["event_type"] == "store.ready"]
    assert delivery["id"] in line  # the webhook-id the receiver printed
    assert delivery["status"] == "succeeded" and delivery["attempts"][-1]["status_code"] == 204


async def test_the_platform_serves_the_event_contract(http: httpx.AsyncClient) -> None:
    document = (await http.get("/schema/asyncapi.json")).json()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {f"stores.*.{event_token(kind)}" for kind in EVENT_TYPES}
