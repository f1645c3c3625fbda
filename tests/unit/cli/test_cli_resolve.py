"""Stores named by id or by name: a UUID is an id; names are normalised as the API does, a live store
wins over a deleted one of the same name, and an unknown name says how to find yours."""

from __future__ import annotations

import uuid

import pytest

from storeplane_cli.errors import FAILED, CliError
from storeplane_cli.resolve import looks_like_id, normalise_name, pick

STORES = [
    {"id": "old", "name": "my-shop", "status": "deleted"},
    {"id": "new", "name": "my-shop", "status": "ready"},
    {"id": "gone", "name": "only-deleted", "status": "deleted"},
]


def test_a_uuid_is_an_id_and_a_name_is_not() -> None:
    assert looks_like_id(str(uuid.uuid4()))
    assert not looks_like_id("my-shop")


def test_names_are_normalised_like_the_api() -> None:
    assert normalise_name("  My Shop ") == "my-shop"
    assert normalise_name("my_shop") == "my-shop"


def test_the_live_store_of_a_name_wins_over_a_deleted_one() -> None:
    assert pick("My Shop", STORES)["id"] == "new"
    assert pick("only-deleted", STORES)["id"] == "gone"


def test_an_unknown_name_fails_with_how_to_list_stores() -> None:
    with pytest.raises(CliError) as refused:
        pick("nope", STORES)
    assert refused.value.exit_code == FAILED and "storeplane stores list" in refused.value.message
