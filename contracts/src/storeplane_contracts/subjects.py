"""Where events and queries travel: one stream for every store event.

Subjects are `stores.<store_id>.<event>` so ordering and replay are per store and a
consumer can filter on the event type, the last token.
"""

from __future__ import annotations

import re

from storeplane_contracts.events import Event, StoreDeletionRequested, StoreRequested, StoreRetryRequested

STREAM = "STORES"
STREAM_SUBJECTS = ("stores.>",)
# The server drops a second publish with the same Nats-Msg-Id inside this window.
DUPLICATE_WINDOW_SECONDS = 120.0

ALL_STORE_EVENTS = "stores.*.*"

# Durable consumers; each service owns one.
PROVISIONER_DURABLE = "provisioner"
STATUS_DURABLE = "status"

# Request-reply subjects answered by the status service.
QUERY_LIST_STORES = "storeplane.queries.stores.list"
QUERY_GET_STORE = "storeplane.queries.stores.get"
QUERY_STORE_EVENTS = "storeplane.queries.stores.events"
QUERY_FIND_LIVE_BY_NAME = "storeplane.queries.stores.find_live_by_name"  # replies StoreReply
# Answered by the provisioner, which alone talks to Kubernetes (request-reply, never stored).
REVEAL_CREDENTIALS = "storeplane.commands.stores.reveal_credentials"


def event_token(event_type: type[Event]) -> str:
    """`StoreRequested` -> `store_requested`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_type.__name__).lower()


def subject_for(event: Event) -> str:
    return f"stores.{event.store_id}.{event_token(type(event))}"


# What the provisioner works on: commands phrased as the events that requested them.
PROVISIONER_SUBJECTS = (
    f"stores.*.{event_token(StoreRequested)}",
    f"stores.*.{event_token(StoreRetryRequested)}",
    f"stores.*.{event_token(StoreDeletionRequested)}",
)
