"""Which gateway a command talks to (`--api`, `STOREPLANE_API`, `--context` or the current context),
handed from the root callback to every command through Typer's context object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import typer

from storeplane_cli.client import Client
from storeplane_cli.config import resolve_api
from storeplane_cli.errors import USAGE, CliError


@dataclass(frozen=True)
class Target:
    """The global options, resolved into an API URL when a command needs one."""

    api_flag: str | None = None
    context: str | None = None

    @property
    def api(self) -> str:
        try:
            return resolve_api(self.api_flag, self.context)
        except KeyError:
            raise CliError(f"No context named {self.context!r}: `storeplane context list` shows them.", USAGE) from None


def target_of(ctx: typer.Context) -> Target:
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, Target) else Target()


@contextmanager
def client_of(ctx: typer.Context) -> Iterator[Client]:
    client = Client(target_of(ctx).api)
    try:
        yield client
    finally:
        client.close()
