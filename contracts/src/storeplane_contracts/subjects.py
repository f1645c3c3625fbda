"""Where events and queries travel: one stream for every store event, one for the audit trail.

Subjects are `stores.<store_id>.<event>` so ordering and replay are per store and a
consumer can filter on the event type, the last token. Audit records go to their own
stream, `audit.<action>.<actor id>`, so that they never mix with a store's timeline.
"""

from __future__ import annotations

import re

from storeplane_contracts.events import (
    Event,
    StoreDegraded,
    StoreDeleted,
    StoreDeletionRequested,
    StoreRequested,
    StoreRetryRequested,
)

STREAM = "STORES"
STREAM_SUBJECTS = ("stores.>",)
# The server drops a second publish with the same Nats-Msg-Id inside this window.
DUPLICATE_WINDOW_SECONDS = 120.0

ALL_STORE_EVENTS = "stores.*.*"

# Durable consumers; each service owns one.
PROVISIONER_DURABLE = "provisioner"
STATUS_DURABLE = "status"
NOTIFIER_DURABLE = "notifier"

# Request-reply subjects answered by the status service.
QUERY_LIST_STORES = "storeplane.queries.stores.list"
QUERY_GET_STORE = "storeplane.queries.stores.get"
QUERY_STORE_EVENTS = "storeplane.queries.stores.events"
QUERY_FIND_LIVE_BY_NAME = "storeplane.queries.stores.find_live_by_name"  # replies StoreReply
QUERY_LIST_IN_STATUS = "storeplane.queries.stores.list_in_status"  # internal: replies StoreList
QUERY_STEP_STATS = "storeplane.queries.stores.step_stats"  # replies StepStatsReply
# Core NATS (not stored): each status instance announces the stream sequence it has just projected,
# so every instance knows how far the shared read models are (read-your-writes across instances).
STATUS_PROJECTED = "storeplane.status.projected"
# Answered by the provisioner, which alone talks to Kubernetes (request-reply, never stored).
REVEAL_CREDENTIALS = "storeplane.commands.stores.reveal_credentials"


def event_token(event_type: type[Event]) -> str:
    """`StoreRequested` -> `store_requested`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_type.__name__).lower()


def subject_of(store_id: str, event_type: type[Event]) -> str:
    """Where a store's events of one type are: `stores.<store_id>.<event>`."""
    return f"stores.{store_id}.{event_token(event_type)}"


def subject_for(event: Event) -> str:
    return subject_of(event.store_id, type(event))


# What the provisioner works on: commands phrased as the events that requested them.
PROVISIONER_SUBJECTS = (
    f"stores.*.{event_token(StoreRequested)}",
    f"stores.*.{event_token(StoreRetryRequested)}",
    f"stores.*.{event_token(StoreDegraded)}",
    f"stores.*.{event_token(StoreDeletionRequested)}",
)

# The gateway frees a store's quota slot (and its name) once the store is gone.
GATEWAY_SLOTS_DURABLE = "gateway-slots"
STORE_DELETED_EVENTS = f"stores.*.{event_token(StoreDeleted)}"

# The audit trail: every command given through the API (storeplane_contracts.audit).
AUDIT_STREAM = "AUDIT"
AUDIT_STREAM_SUBJECTS = ("audit.>",)
# Audit records are kept a year unless the gateway is configured otherwise.
AUDIT_RETENTION_SECONDS = 365 * 24 * 3600.0
ANONYMOUS_ACTOR = "anonymous"


def audit_subject(action: str, actor_id: str) -> str:
    """`audit.<action>.<actor id>`; `anonymous` when nobody was authenticated."""
    return f"audit.{action}.{actor_id or ANONYMOUS_ACTOR}"


def audit_filter(*, action: str | None = None, actor_id: str | None = None) -> str:
    """The subject filter for an action, an actor, both or neither."""
    return f"audit.{action or '*'}.{actor_id or '*'}"
