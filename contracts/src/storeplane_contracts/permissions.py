"""Who may publish and subscribe to what on NATS: every service's user, in one table.

Each service connects as its own NATS user, allowed only its own subjects: the events it
publishes, the requests it answers or asks, and the JetStream API calls for its own streams and
durable consumers (`$JS.API.*`, acks on `$JS.ACK.<stream>.<durable>.>`), with replies on an inbox
of its own (`_INBOX.<user>.>`) so that nobody reads another user's replies. `reader` is the
read-only user for integrations: it follows `stores.>`, live or through a durable consumer of its
own, and may publish nothing else.

The nats-server configuration of `make up` and the tests (`server_config`) and the chart's
(`charts/storeplane/files/nats-permissions.json`, from `chart_permissions`) are made from `USERS`:
adding a service is adding an entry there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from storeplane_contracts import subjects, webhooks
from storeplane_contracts.events import (
    EVENT_TYPES,
    Event,
    StoreDeletionRequested,
    StoreRequested,
    StoreRetryRequested,
)

API = "$JS.API"
# Request-reply answered by the notifier (webhook deliveries and their management).
WEBHOOK_REQUESTS = "storeplane.webhooks.>"
# What the status service answers (and the gateway and the provisioner ask).
STATUS_QUERIES = (
    subjects.QUERY_LIST_STORES,
    subjects.QUERY_GET_STORE,
    subjects.QUERY_STORE_EVENTS,
    subjects.QUERY_FIND_LIVE_BY_NAME,
    subjects.QUERY_LIST_IN_STATUS,
    subjects.QUERY_STEP_STATS,
)
# The commands users give through the gateway; every other store event is the provisioner's.
GATEWAY_EVENTS: tuple[type[Event], ...] = (StoreRequested, StoreRetryRequested, StoreDeletionRequested)
PROVISIONER_EVENTS = tuple(t for t in EVENT_TYPES if t not in GATEWAY_EVENTS)


def inbox_prefix(user: str) -> str:
    """Where a user's replies arrive (nats-py's `inbox_prefix`); only that user may subscribe there."""
    return f"_INBOX.{user}"


def events_of(*event_types: type[Event]) -> tuple[str, ...]:
    """The subjects of these event types, for every store: `stores.*.<event>`."""
    return tuple(subjects.subject_of("*", t) for t in event_types)


def durable_api(stream: str, durable: str) -> tuple[str, ...]:
    """Create (either API version), look up, pull from, acknowledge and delete one durable consumer."""
    return (
        f"{API}.CONSUMER.CREATE.{stream}.{durable}",
        f"{API}.CONSUMER.CREATE.{stream}.{durable}.>",
        f"{API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"{API}.CONSUMER.INFO.{stream}.{durable}",
        f"{API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"{API}.CONSUMER.DELETE.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    )


def stream_reading(stream: str) -> tuple[str, ...]:
    """Look a stream up and read single messages from it."""
    return (
        f"{API}.STREAM.NAMES",
        f"{API}.STREAM.INFO.{stream}",
        f"{API}.STREAM.MSG.GET.{stream}",
        f"{API}.DIRECT.GET.{stream}",
        f"{API}.DIRECT.GET.{stream}.>",
    )


def stream_declaring(stream: str) -> tuple[str, ...]:
    """Create the stream or bring it to the declared configuration (`storeplane_runtime.bus.ensure_stream`)."""
    return (f"{API}.STREAM.CREATE.{stream}", f"{API}.STREAM.UPDATE.{stream}", *stream_reading(stream))


def ephemeral_consumers(stream: str) -> tuple[str, ...]:
    """Unnamed (ordered) push consumers delivering to the user's inbox, with their flow control, and
    a look at how far one got (its server-made name is not known in advance)."""
    return (f"{API}.CONSUMER.CREATE.{stream}", f"{API}.CONSUMER.INFO.{stream}.*", f"$JS.FC.{stream}.>")


@dataclass(frozen=True)
class NatsUser:
    """One NATS user: what it may publish and subscribe to, and which durable consumers are its own."""

    name: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    # (stream, durable) pairs: their API subjects are granted here and denied to `reader`.
    durables: tuple[tuple[str, str], ...] = ()
    # May answer requests (publish once to a request's reply subject), without a grant on _INBOX.>.
    responds: bool = False
    publish_deny: tuple[str, ...] = ()

    def publish_allowed(self) -> list[str]:
        every = [*self.publish, *(s for stream, d in self.durables for s in durable_api(stream, d))]
        return list(dict.fromkeys(every))

    def subscribe_allowed(self) -> list[str]:
        return [*self.subscribe, f"{inbox_prefix(self.name)}.>"]


STORES, AUDIT = subjects.STREAM, subjects.AUDIT_STREAM

GATEWAY = NatsUser(
    "gateway",
    publish=(
        *events_of(*GATEWAY_EVENTS),
        subjects.AUDIT_STREAM_SUBJECTS[0],
        *(q for q in STATUS_QUERIES if q != subjects.QUERY_LIST_IN_STATUS),
        subjects.REVEAL_CREDENTIALS,
        WEBHOOK_REQUESTS,
        *stream_declaring(STORES),
        # Server-sent event streams: ordered consumers on STORES.
        *ephemeral_consumers(STORES),
        # Reading the audit trail back: short-lived named consumers of the gateway's own AUDIT stream.
        *stream_declaring(AUDIT),
        f"{API}.CONSUMER.CREATE.{AUDIT}.>",
        f"{API}.CONSUMER.INFO.{AUDIT}.*",
        f"{API}.CONSUMER.MSG.NEXT.{AUDIT}.*",
        f"{API}.CONSUMER.DELETE.{AUDIT}.*",
    ),
    subscribe=(),
    durables=((STORES, subjects.GATEWAY_SLOTS_DURABLE),),
)

STATUS = NatsUser(
    "status",
    publish=(subjects.STATUS_PROJECTED, *stream_declaring(STORES)),
    subscribe=(*STATUS_QUERIES, subjects.STATUS_PROJECTED),
    durables=((STORES, subjects.STATUS_DURABLE),),
    responds=True,
)

PROVISIONER = NatsUser(
    "provisioner",
    publish=(
        *events_of(*PROVISIONER_EVENTS),
        subjects.QUERY_LIST_IN_STATUS,
        subjects.QUERY_STEP_STATS,  # the p95s behind a stalled step's threshold
        *stream_declaring(STORES),
    ),
    subscribe=(subjects.REVEAL_CREDENTIALS,),
    durables=((STORES, subjects.PROVISIONER_DURABLE),),
    responds=True,
)

NOTIFIER = NatsUser(
    "notifier",
    # Its own audit notes (an endpoint disabled, a message out of attempts), under the owner as actor.
    publish=(*stream_declaring(STORES), *(subjects.audit_subject(a, "*") for a in webhooks.NOTIFIER_AUDIT_ACTIONS)),
    subscribe=(WEBHOOK_REQUESTS,),
    durables=((STORES, subjects.NOTIFIER_DURABLE),),
    responds=True,
)

SERVICES = (GATEWAY, STATUS, PROVISIONER, NOTIFIER)


def _reader(services: Sequence[NatsUser]) -> NatsUser:
    """Read-only: `stores.>` live, its own durable consumers of STORES (any name but a service's)."""
    any_durable = (
        f"{API}.CONSUMER.CREATE.{STORES}.*",
        f"{API}.CONSUMER.CREATE.{STORES}.*.>",
        f"{API}.CONSUMER.DURABLE.CREATE.{STORES}.*",
        f"{API}.CONSUMER.INFO.{STORES}.*",
        f"{API}.CONSUMER.MSG.NEXT.{STORES}.*",
        f"{API}.CONSUMER.DELETE.{STORES}.*",
        f"$JS.ACK.{STORES}.>",
    )
    theirs = tuple(s for user in services for stream, d in user.durables for s in durable_api(stream, d))
    return NatsUser(
        "reader",
        publish=(*stream_reading(STORES), *ephemeral_consumers(STORES), *any_durable),
        subscribe=(subjects.STREAM_SUBJECTS[0],),
        publish_deny=theirs,
    )


READER = _reader(SERVICES)
USERS: tuple[NatsUser, ...] = (*SERVICES, READER)
USER_NAMES = tuple(user.name for user in USERS)


def permissions(user: NatsUser) -> dict[str, object]:
    """The user's nats-server `permissions` block."""
    publish: dict[str, list[str]] = {"allow": user.publish_allowed()}
    if user.publish_deny:
        publish["deny"] = list(user.publish_deny)
    block: dict[str, object] = {"publish": publish, "subscribe": {"allow": user.subscribe_allowed()}}
    if user.responds:
        block["allow_responses"] = True
    return block


def chart_permissions() -> str:
    """The table as JSON for the platform chart, which adds the passwords (charts/storeplane/files/)."""
    return json.dumps({user.name: permissions(user) for user in USERS}, indent=2) + "\n"


def server_config(passwords: Mapping[str, str], *, superusers: Iterable[str] = ()) -> str:
    """The nats-server `authorization` block for every user in `passwords` (a user of `USERS`, or a
    superuser allowed everything: the tests' privileged publisher)."""
    by_name = {user.name: user for user in USERS}
    unlimited = set(superusers)
    entries = []
    for name, password in passwords.items():
        entry: dict[str, object] = {"user": name, "password": password}
        if name not in unlimited:
            entry["permissions"] = permissions(by_name[name])
        entries.append(entry)
    # nats-server reads JSON as its configuration syntax; quoted strings are taken literally.
    return "authorization " + json.dumps({"users": entries}, indent=2) + "\n"


if (
    __name__ == "__main__"
):  # `python -m storeplane_contracts.permissions > charts/storeplane/files/nats-permissions.json`
    print(chart_permissions(), end="")
