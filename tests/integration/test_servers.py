"""The test servers themselves: JetStream stores and deduplicates, Postgres answers."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import asyncpg
import nats
import pytest

from infra.local.servers import start_postgres
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


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands Postgres to the `postgres` account")
def test_postgres_under_a_closed_folder_is_refused_with_the_fix() -> None:
    base = Path(tempfile.mkdtemp(prefix="storeplane-closed-"))  # pytest's own tmp folders are closed too
    try:
        base.chmod(0o755)
        closed = base / "checkout"
        closed.mkdir(mode=0o700)  # like a private clone: root's, closed to everyone else
        with pytest.raises(RuntimeError, match=rf"cannot pass through {closed} .*chmod o\+x {closed}"):
            start_postgres(closed / ".storeplane" / "postgres")
        closed.chmod(0o701)  # the fix the message names
        start_postgres(closed / ".storeplane" / "postgres", durable=False).stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
