"""Follow Storeplane's store events with a durable JetStream consumer of your own.

    python docs/examples/store_events_subscriber.py --nats nats://127.0.0.1:4222 --durable my-erp
    python docs/examples/store_events_subscriber.py --durable my-erp --subject 'stores.*.store_ready'

It prints one JSON line per event (subject, stream sequence, type, store id, the event) and
acknowledges it after handling, so the consumer's position is kept by JetStream: stop it, start it
again with the same `--durable`, and it goes on where it stopped (an event whose ack was lost comes
again: dedupe on `event_id`). Only `nats-py` is needed. Credentials go in the URL
(`nats://user:password@host:4222`), e.g. the read-only NATS user's (see docs/security.md).
`--count N` stops after N events (the tests use it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence

import nats
from nats.errors import TimeoutError as FetchTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

STREAM = "STORES"
EVERY_EVENT = "stores.*.*"  # stores.<store_id>.<event>


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS URL, credentials included")
    parser.add_argument("--durable", required=True, help="your consumer's name: it keeps your position")
    parser.add_argument("--subject", default=EVERY_EVENT, help="e.g. 'stores.*.store_ready' (default: every event)")
    parser.add_argument("--from-start", action="store_true", help="a new consumer reads the stream from its start")
    parser.add_argument("--count", type=int, default=0, help="stop after this many events (0: never)")
    return parser.parse_args(argv)


def line_for(subject: str, sequence: int, event: dict[str, object]) -> str:
    return json.dumps(
        {
            "subject": subject,
            "sequence": sequence,
            "type": event.get("type"),
            "store_id": event.get("store_id"),
            "event": event,
        }
    )


async def follow(args: argparse.Namespace) -> None:
    nc = await nats.connect(args.nats)
    try:
        js = nc.jetstream()
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL if args.from_start else DeliverPolicy.NEW,
        )
        # Binds to the durable if it exists (keeping its position), or creates it.
        subscription = await js.pull_subscribe(args.subject, durable=args.durable, stream=STREAM, config=config)
        seen = 0
        while not args.count or seen < args.count:
            try:
                messages = await subscription.fetch(batch=10, timeout=5)
            except FetchTimeout:
                continue  # nothing new yet
            for message in messages:
                event = json.loads(message.data)
                print(line_for(message.subject, message.metadata.sequence.stream, event), flush=True)
                await message.ack()  # handled: JetStream moves your position past it
                seen += 1
                if args.count and seen >= args.count:
                    break
    finally:
        await nc.drain()


def main(argv: Sequence[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop; the position is JetStream's
        asyncio.run(follow(parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
