"""docs/events.md's example subscriber works: run as integrators run it, against the real NATS, it
follows the STORES stream with its own durable consumer and goes on where it stopped when run again."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from storeplane_contracts import events
from storeplane_contracts.events import new_id
from tests.integration.gateway.buses import connected_bus

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).parents[3] / "docs" / "examples" / "store_events_subscriber.py"


async def run_subscriber(nats_url: str, *args: str) -> list[dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--nats", nats_url, *args, stdout=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(30):
        out, _ = await process.communicate()
    assert process.returncode == 0
    return [json.loads(line) for line in out.decode().splitlines()]


def lifecycle(store_id: str) -> list[events.Event]:
    return [
        events.StoreRequested(store_id=store_id, owner_id="u", name="shop", engine="woocommerce", namespace="ns"),
        events.ProvisioningStarted(store_id=store_id, owner_id="u"),
        events.StoreReady(store_id=store_id, owner_id="u", urls={"storefront": "http://shop.localhost/"}),
    ]


async def test_the_example_follows_the_stream_and_keeps_its_position(clean_stream: str) -> None:
    first, second = new_id(), new_id()
    async with connected_bus(clean_stream) as bus:
        for event in lifecycle(first):
            await bus.publish(event)
        got = await run_subscriber(clean_stream, "--durable", "example-erp", "--from-start", "--count", "3")
        assert [(line["type"], line["store_id"]) for line in got] == [
            ("StoreRequested", first),
            ("ProvisioningStarted", first),
            ("StoreReady", first),
        ]
        assert got[0]["subject"] == f"stores.{first}.store_requested"
        assert [line["sequence"] for line in got] == [1, 2, 3]

        for event in lifecycle(second):
            await bus.publish(event)
        again = await run_subscriber(clean_stream, "--durable", "example-erp", "--count", "3")
        assert [(line["type"], line["store_id"]) for line in again] == [
            ("StoreRequested", second),
            ("ProvisioningStarted", second),
            ("StoreReady", second),
        ]  # nothing of the first store again: JetStream kept the consumer's position

        ready_only = await run_subscriber(
            clean_stream,
            "--durable",
            "example-ready",
            "--subject",
            "stores.*.store_ready",
            "--from-start",
            "--count",
            "2",
        )
        assert [line["store_id"] for line in ready_only] == [first, second]
        assert all(line["event"]["urls"] for line in ready_only)
