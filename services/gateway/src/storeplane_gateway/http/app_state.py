"""Where the app keeps its adapters: in its state, put there by the lifespan of `create_app`."""

from __future__ import annotations

from typing import cast

from litestar.datastructures import State

from storeplane_gateway.ports import Adapters


def adapters_of(state: State) -> Adapters:
    """The adapters the app's lifespan put into its state."""
    return cast(Adapters, state.adapters)
