"""The event contract: every type survives the wire, newer producers' fields are tolerated, and
what is not a store event is refused."""

from __future__ import annotations

import json
import typing
from typing import Any, TypedDict

import msgspec
import pytest

from storeplane_contracts import events, subjects


class Request(TypedDict):
    """The fields a store request carries besides whose store it is."""

    name: str
    engine: events.Engine
    namespace: str


REQUEST = Request(name="shop", engine="woocommerce", namespace="store-shop-0b4c43f4")


@pytest.mark.parametrize("event_type", events.EVENT_TYPES, ids=lambda t: t.__name__)
def test_every_event_type_round_trips_and_has_its_own_subject(event_type: type[events.Event]) -> None:
    # Any: the values are made to fit whichever event type this run checks.
    required: dict[str, Any] = {
        field.name: _example(field.type) for field in msgspec.structs.fields(event_type) if field.required
    }
    event = event_type(**{**required, "store_id": "s1", "owner_id": "o1"})
    assert events.decode(events.encode(event)) == event
    assert subjects.subject_for(event) == f"stores.s1.{subjects.event_token(event_type)}"


def test_fields_from_a_newer_producer_are_ignored() -> None:
    wire = json.loads(events.encode(events.StoreRequested(store_id="s1", owner_id="o1", **REQUEST)))
    wire["region"] = "eu-west"  # added by a later version of the gateway
    decoded = events.decode(json.dumps(wire).encode())
    assert isinstance(decoded, events.StoreRequested) and decoded.name == "shop"


@pytest.mark.parametrize(
    "wire",
    [
        b'{"type": "StoreExploded", "store_id": "s1", "owner_id": "o1"}',
        b'{"type": "StoreRequested", "store_id": "s1", "owner_id": "o1"}',  # no name, engine, namespace
        b'{"type": "StoreRequested", "store_id": "s1", "owner_id": "o1", "name": "shop", "engine": "magento",'
        b' "namespace": "store-shop-0b4c43f4"}',
    ],
)
def test_what_is_not_a_store_event_is_refused(wire: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        events.decode(wire)


def _example(hint: object) -> object:
    """A valid value for a field of type `hint`."""
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)[0]
    if hint is str:
        return "x"
    if hint is int:
        return 1
    if hint is bool:
        return True
    if hint is float:
        return 1.0
    origin = typing.get_origin(hint)
    if origin is dict:
        return {}
    if origin is list or origin is tuple:
        return origin()
    raise AssertionError(f"no example for {hint!r}")
