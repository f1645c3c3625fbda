"""The STORES stream's contract as an AsyncAPI document, generated from the event structs by FastStream.

Integrators inside the trust boundary consume the stream with their own durable consumer
(docs/events.md); this document tells them every subject and the payload on it. It is built
from `storeplane_contracts.events` (one publisher per event type, its payload the struct's
JSON schema from msgspec), so it cannot drift from what the services publish. Nothing
connects: the broker only describes. The server is the chart's NATS address, never the
gateway's own `nats_url`, which may hold credentials.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import WithJsonSchema

from storeplane_contracts import subjects
from storeplane_contracts.events import EVENT_TYPES, Event

ASYNCAPI_VERSION = "3.0.0"
# Where the chart runs NATS (charts/storeplane/values.yaml); a deployment may put it elsewhere.
DOCUMENTED_SERVER = "nats://nats:4222"
DESCRIPTION = (
    f"Every store event on the `{subjects.STREAM}` JetStream stream (subjects `stores.<store_id>.<event>`; "
    "the `*` in each address is the store id). Payloads are JSON, tagged by `type`; each message carries "
    "`Nats-Msg-Id` (the event id) and the W3C `traceparent` of the request that caused it. "
    "Consume with a durable consumer of your own: see docs/events.md."
)


def event_subject(event_type: type[Event]) -> str:
    """The subject filter for every store's events of one type: `stores.*.<event>`."""
    return f"stores.*.{subjects.event_token(event_type)}"


def _payload(schema: dict[str, Any]) -> Any:
    """A type whose JSON schema (as pydantic, and so FastStream, sees it) is the struct's own."""
    return Annotated[dict[str, Any], WithJsonSchema(schema)]


_REF = "#/components/schemas/"


def _inlined(node: Any, components: dict[str, Any]) -> Any:
    """`node` with each reference to a struct inside an event (a `StallFinding`) replaced by its schema:
    FastStream places each payload's schema but not the components it refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            return _inlined(components[ref.removeprefix(_REF)], components)
        return {key: _inlined(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(item, components) for item in node]
    return node


def describe_stream() -> NatsBroker:
    """A broker that only describes: a publisher per event type, with the payload's schema."""
    broker = NatsBroker(DOCUMENTED_SERVER, specification_url=DOCUMENTED_SERVER, description="Storeplane's NATS")
    _, schemas = msgspec.json.schema_components(EVENT_TYPES, ref_template=_REF + "{name}")
    for event_type in EVENT_TYPES:
        broker.publisher(
            event_subject(event_type),
            schema=_payload(_inlined(schemas[event_type.__name__], schemas)),
            title=event_type.__name__,
            description=(event_type.__doc__ or "").strip(),
        )
    return broker


def asyncapi_document(*, version: str) -> bytes:
    """The AsyncAPI 3 document of the STORES stream, as JSON."""
    spec = AsyncAPI(
        describe_stream(),
        title="Storeplane store events",
        version=version,
        description=DESCRIPTION,
        schema_version=ASYNCAPI_VERSION,
    )
    return spec.to_specification().to_json().encode()
