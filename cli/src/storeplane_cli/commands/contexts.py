"""`storeplane context`: named API endpoints (say `local` and `prod`), and which one is current."""

from __future__ import annotations

from typing import Annotated

import typer

from storeplane_cli.config import Contexts, normalise_api
from storeplane_cli.errors import USAGE, CliError
from storeplane_cli.output import print_table

app = typer.Typer(help="Named API endpoints: add one, switch between them.", no_args_is_help=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="What to call it, e.g. `local`.")],
    api: Annotated[str, typer.Option("--api", help="The gateway's base URL, e.g. http://127.0.0.1:8080.")],
    use: Annotated[bool, typer.Option("--use", help="Make it the current context.")] = False,
) -> None:
    """Add (or change) a context."""
    if not api.startswith(("http://", "https://")):
        raise CliError(f"--api must be an http:// or https:// URL, not {api!r}.", USAGE)
    contexts = Contexts.load()
    contexts.apis[name] = normalise_api(api)
    if use:
        contexts.current = name
    contexts.save()
    print(f"Context {name!r}: {contexts.apis[name]}" + (" (current)" if use else ""))


@app.command("use")
def use(name: Annotated[str, typer.Argument(help="A context from `storeplane context list`.")]) -> None:
    """Make a context the current one."""
    contexts = Contexts.load()
    if name not in contexts.apis:
        raise CliError(f"No context named {name!r}: `storeplane context list` shows them.", USAGE)
    contexts.current = name
    contexts.save()
    print(f"Now using {name!r}: {contexts.apis[name]}")


@app.command("list")
def list_contexts() -> None:
    """The contexts; `*` marks the current one."""
    contexts = Contexts.load()
    rows = [["*" if name == contexts.current else "", name, api] for name, api in sorted(contexts.apis.items())]
    print_table(["", "NAME", "API"], rows)


@app.command("rm")
def remove(name: Annotated[str, typer.Argument(help="A context from `storeplane context list`.")]) -> None:
    """Remove a context (not the current one)."""
    contexts = Contexts.load()
    if name not in contexts.apis:
        raise CliError(f"No context named {name!r}.", USAGE)
    if name == contexts.current:
        raise CliError(f"{name!r} is the current context: `storeplane context use` another one first.", USAGE)
    del contexts.apis[name]
    contexts.save()
    print(f"Removed context {name!r}.")
