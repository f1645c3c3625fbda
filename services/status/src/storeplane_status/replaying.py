"""Rebuild the read models from the stream, and compare two sets of read models.

The STORES stream keeps every event (limits retention, no age limit), so projecting it again
from the first message must give exactly the live read models. `make replay` rebuilds into a
separate database next to the live one and reports whether the two are identical; pointing
`--into` at a fresh database is also how the read models are restored after a loss.

    python -m storeplane_status.replaying --into postgresql://…/storeplane_replay [--compare-with URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import asyncpg
import msgspec
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from storeplane_contracts import events, subjects
from storeplane_runtime.bus import nats_servers
from storeplane_runtime.settings import NatsLogin
from storeplane_status import migrations
from storeplane_status.repository import STORE_VIEW_COLUMNS, StoreRepository

REPLAY_CONSUMER = "replay"


async def replay(nats_url: str, database_url: str, login: NatsLogin | None = None) -> int:
    """Project the whole stream into `database_url` (emptied first); return the messages read.
    `login`: the NATS user to read as; the read-only `reader` user will do."""
    repository = StoreRepository(database_url, pool_size=2)
    await repository.open()
    nc = await nats.connect(nats_servers(nats_url), **(login.connect_options() if login else {}))
    try:
        await migrations.migrate(repository.pool)
        await repository.pool.execute("TRUNCATE stores, store_events, projection_tracking")
        js = nc.jetstream()
        last = (await js.stream_info(subjects.STREAM)).state.last_seq
        read = 0
        if last:
            subscription = await js.subscribe(
                subjects.ALL_STORE_EVENTS,
                ordered_consumer=True,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
            )
            async for message in subscription.messages:
                sequence = message.metadata.sequence.stream
                try:
                    await repository.apply(REPLAY_CONSUMER, sequence, events.decode(message.data))
                except msgspec.DecodeError:
                    await repository.skip(REPLAY_CONSUMER, sequence)
                read += 1
                if sequence >= last:
                    break
            await subscription.unsubscribe()
        return read
    finally:
        await nc.close()
        await repository.close()


async def snapshot(database_url: str) -> dict[str, Any]:
    """The read models' content, without bookkeeping that differs between consumers."""
    connection = await asyncpg.connect(database_url)
    try:
        stores = await connection.fetch(f"SELECT {STORE_VIEW_COLUMNS} FROM stores ORDER BY id")
        timeline = await connection.fetch(
            "SELECT event_id, store_id, sequence, type, occurred_at, data FROM store_events ORDER BY sequence"
        )
    finally:
        await connection.close()
    return {
        "stores": [{k: _plain(v) for k, v in dict(r).items()} for r in stores],
        "events": [{k: _plain(v) for k, v in dict(r).items()} for r in timeline],
    }


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def differences(live: dict[str, Any], rebuilt: dict[str, Any]) -> list[str]:
    """Human-readable differences between two snapshots; empty when identical."""
    found: list[str] = []
    for table, key in (("stores", "id"), ("events", "event_id")):
        left = {row[key]: row for row in live[table]}
        right = {row[key]: row for row in rebuilt[table]}
        found += [f"{table}: {k} only in the live read models" for k in sorted(left.keys() - right.keys())]
        found += [f"{table}: {k} only in the replay" for k in sorted(right.keys() - left.keys())]
        found += [
            f"{table}: {k} differs: live {json.dumps(left[k], default=str)} replay {json.dumps(right[k], default=str)}"
            for k in sorted(left.keys() & right.keys())
            if left[k] != right[k]
        ]
    return found


async def ensure_database(url: str) -> None:
    """Create the database `url` names if it does not exist (connecting to the server's `postgres`)."""
    base, name = url.rsplit("/", 1)
    connection = await asyncpg.connect(f"{base}/postgres")
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _main(args: argparse.Namespace) -> int:
    await ensure_database(args.into)
    read = await replay(args.nats_url, args.into, args.login)
    rebuilt = await snapshot(args.into)
    print(f"replayed {read} events into {len(rebuilt['stores'])} stores and {len(rebuilt['events'])} timeline entries")
    if not args.compare_with:
        return 0
    found = differences(await snapshot(args.compare_with), rebuilt)
    for line in found:
        print(line)
    print("read models identical to the replay" if not found else f"{len(found)} differences")
    return 0 if not found else 1


def main() -> None:
    from storeplane_status.settings import StatusSettings

    settings = StatusSettings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nats-url", default=settings.nats_url)
    parser.add_argument("--into", required=True, help="database to rebuild (emptied first)")
    parser.add_argument("--compare-with", help="live database to compare the replay with")
    args = parser.parse_args()
    args.login = settings.nats_login()  # STOREPLANE_NATS_USER and STOREPLANE_NATS_PASSWORD
    sys.exit(asyncio.run(_main(args)))


if __name__ == "__main__":
    main()
