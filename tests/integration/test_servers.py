"""The test servers themselves: JetStream stores and deduplicates, Postgres answers."""

from __future__ import annotations

import asyncpg
import nats
import pytest

from storeplane_runtime.bus import ensure_stream

pytestmark = pytest.mark.integration


async def test_jetstream_deduplicates_by_message_id(clean_stream: str) -> None:
    nc = await nats.connect(clean_stream)
    js = nc.jetstream()
    await ensure_stream(js)
    await ensure_stream(js)  # idempotent
    first = await js.publish("stores.s1.store_requested", b"{}", headers={"Nats-Msg-Id": "m1"})
    second = await js.publish("stores.s1.store_requested", b"{}", headers={"Nats-Msg-Id": "m1"})
    assert second.duplicate and second.seq == first.seq
    await nc.close()


async def test_each_test_gets_an_empty_database(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    tables = await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'")
    await conn.close()
    assert tables == 0
