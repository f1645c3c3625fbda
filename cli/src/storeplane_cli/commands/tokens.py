"""`storeplane tokens`: API tokens for scripts and integrations (`sp_...`), each with its scopes."""

from __future__ import annotations

from typing import Annotated

import typer

from storeplane_cli.errors import CliError
from storeplane_cli.output import Format, errors, print_document, print_fields, print_table
from storeplane_cli.resolve import looks_like_id
from storeplane_cli.target import client_of

app = typer.Typer(help="API tokens for scripts and integrations.", no_args_is_help=True)

TOKENS = "/api/v1/tokens"
OutputOption = Annotated[Format, typer.Option("--output", "-o", help="table, json or yaml.")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. `ci deploys`.")],
    scopes: Annotated[
        list[str] | None,
        typer.Option("--scope", "-s", help="stores:read, stores:write or stores:credentials (repeat it)."),
    ] = None,
    output: OutputOption = Format.table,
) -> None:
    """Make an API token; its secret is shown this once."""
    with client_of(ctx) as client:
        response = client.send("POST", TOKENS, json={"name": name, "scopes": scopes or ["stores:read"]})
    errors().print("The token is shown once only: save it now.", markup=False)
    if output is not Format.table:
        print_document(response.text, output)
        return
    body = response.json()
    print_fields(
        [("id", body["id"]), ("name", body["name"]), ("scopes", " ".join(body["scopes"])), ("token", body["token"])]
    )


@app.command("list")
def list_tokens(ctx: typer.Context, output: OutputOption = Format.table) -> None:
    """Your API tokens (never their secrets)."""
    with client_of(ctx) as client:
        response = client.send("GET", TOKENS)
    if output is not Format.table:
        print_document(response.text, output)
        return
    rows = [
        [t["id"], t["name"], " ".join(t["scopes"]), t["prefix"], t["created_at"][:19], (t["last_used_at"] or "")[:19]]
        for t in response.json()["tokens"]
    ]
    print_table(["ID", "NAME", "SCOPES", "PREFIX", "CREATED", "LAST USED"], rows)


@app.command("revoke")
def revoke(
    ctx: typer.Context, token: Annotated[str, typer.Argument(help="The token's id or name.", metavar="ID|NAME")]
) -> None:
    """Revoke a token: it stops working at once."""
    with client_of(ctx) as client:
        token_id = token
        if not looks_like_id(token):
            named = [t for t in client.get(TOKENS)["tokens"] if t["name"] == token]
            if not named:
                raise CliError(f"No token named {token!r}: `storeplane tokens list` shows yours.")
            token_id = named[0]["id"]
        client.send("DELETE", f"{TOKENS}/{token_id}")
    print(f"Revoked token {token}.")
