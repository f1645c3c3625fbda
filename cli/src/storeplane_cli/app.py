"""The `storeplane` command: the root app, its global options, and the one place failures become
messages on standard error and exit statuses (see `errors.py`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import httpx
import typer

from storeplane_cli.commands import auth, contexts, stores, tokens
from storeplane_cli.errors import FAILED, INTERRUPTED, CliError
from storeplane_cli.output import errors
from storeplane_cli.target import Target

app = typer.Typer(
    name="storeplane",
    help="Order, watch and manage Storeplane stores.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("login")(auth.login)
app.command("logout")(auth.logout)
app.command("account")(auth.account)
app.add_typer(stores.app, name="stores")
app.add_typer(tokens.app, name="tokens")
app.add_typer(contexts.app, name="context")


@app.callback()
def root(
    ctx: typer.Context,
    api: Annotated[
        str | None, typer.Option("--api", envvar="STOREPLANE_API", help="The gateway's URL (over the context's).")
    ] = None,
    context: Annotated[str | None, typer.Option("--context", help="A context from `storeplane context list`.")] = None,
) -> None:
    """Storeplane: self-service stores on Kubernetes."""
    ctx.obj = Target(api_flag=api, context=context)


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line; the exit status (0 done, 1 failed, 2 usage error)."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="storeplane")
    except SystemExit as leaving:
        return leaving.code if isinstance(leaving.code, int) else (0 if leaving.code is None else FAILED)
    except CliError as error:
        errors().print(f"Error: {error.message}", markup=False)
        return error.exit_code
    except KeyboardInterrupt:
        return INTERRUPTED
    except httpx.TransportError as error:
        errors().print(f"Error: cannot reach the API ({type(error).__name__}: {error}).", markup=False)
        return FAILED
    return 0


def main() -> None:
    sys.exit(run())
