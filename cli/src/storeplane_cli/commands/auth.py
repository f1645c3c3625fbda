"""`storeplane login`, `logout` and `account`: who the CLI acts as, for the current API.

`login` asks for the email and password (the password unseen), or reads the password from standard
input with `--password-stdin` for scripts, or takes an API token (`--token sp_...`), which it checks
before saving. Credentials are saved per API URL (see `config.py`).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from storeplane_cli.client import Client, session_from_body
from storeplane_cli.config import Credentials
from storeplane_cli.errors import USAGE, ApiError, CliError
from storeplane_cli.output import Format, print_document, print_fields
from storeplane_cli.target import client_of

OutputOption = Annotated[Format, typer.Option("--output", "-o", help="table, json or yaml.")]


def login(
    ctx: typer.Context,
    email: Annotated[str | None, typer.Option("--email", help="Your account's email (asked for if missing).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
    ] = False,
    token: Annotated[str | None, typer.Option("--token", help="Log in with an API token (sp_...) instead.")] = None,
) -> None:
    """Log in and save the credentials (mode 0600) for the current API."""
    with client_of(ctx) as client:
        if token is not None:
            _login_with_token(client, token)
            return
        address = email or typer.prompt("Email")
        password = sys.stdin.readline().rstrip("\r\n") if password_stdin else typer.prompt("Password", hide_input=True)
        if not password:
            raise CliError("No password given.", USAGE)
        body = client.post_public("/api/v1/auth/login", {"email": address, "password": password})
        client.adopt(session_from_body(body, address))
        print(f"Logged in to {client.api} as {address}.")


def _login_with_token(client: Client, token: str) -> None:
    if not token.startswith("sp_"):
        raise CliError("An API token starts with `sp_` (make one with `storeplane tokens create`).", USAGE)
    client.credentials = Credentials(token=token, kind="api_token")
    account = client.get("/api/v1/account")  # refuses a token that does not work
    client.adopt(Credentials(token=token, kind="api_token", email=str(account["user"]["email"])))
    print(f"Logged in to {client.api} as {account['user']['email']} with an API token.")


def logout(ctx: typer.Context) -> None:
    """End the session (its tokens stop working) and forget the saved credentials."""
    with client_of(ctx) as client:
        saved = client.credentials
        if saved is None:
            print(f"Not logged in to {client.api}.")
            return
        if saved.kind == "session":
            try:
                client.send("POST", "/api/v1/auth/logout")
            except CliError as error:  # a session that already ended is logged out all the same
                if isinstance(error, ApiError) and error.status != 401:
                    raise
        client.adopt(None)
        print(f"Logged out of {client.api}.")


def account(ctx: typer.Context, output: OutputOption = Format.table) -> None:
    """Who you are and how much of your store quota is in use."""
    with client_of(ctx) as client:
        response = client.send("GET", "/api/v1/account")
    if output is not Format.table:
        print_document(response.text, output)
        return
    body = response.json()
    user, quota = body["user"], body["quota"]
    print_fields(
        [
            ("email", user["email"]),
            ("id", user["id"]),
            ("role", user["role"]),
            ("stores", f"{quota['in_use']} of {quota['limit']}"),
        ]
    )
