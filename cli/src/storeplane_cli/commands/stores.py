"""`storeplane stores`: order, list, read, delete, retry a store, its timeline and its admin login.

`create`, `delete` and `retry` send one `Idempotency-Key` per invocation (see `client.py`); with
`--wait` they follow the store's event stream from the command's own event (`X-Stream-Sequence`)
until the store is ready or deleted (exit 0) or failed (exit 1, with the step, the reason, the
message and the command that retries it).
"""

from __future__ import annotations

import enum
import json
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import typer

from storeplane_cli.client import MAX_PAGE, Client
from storeplane_cli.errors import FAILED
from storeplane_cli.output import Format, errors, print_document, print_fields, print_table
from storeplane_cli.resolve import looks_like_id, pick
from storeplane_cli.stream import Follower
from storeplane_cli.target import client_of
from storeplane_cli.watch import DELETED, PROVISIONED, Goal, line, until

app = typer.Typer(help="Order, watch and manage your stores.", no_args_is_help=True)

STORES = "/api/v1/stores"
# What the API gives when asked for a page without saying its size.
DEFAULT_PAGE = 50
OutputOption = Annotated[Format, typer.Option("--output", "-o", help="table, json or yaml.")]
StoreArgument = Annotated[str, typer.Argument(help="The store's id or name.", metavar="ID|NAME")]
WaitOption = Annotated[bool, typer.Option("--wait", help="Follow its steps live until it is done; exit 1 if it fails.")]


class Engine(enum.StrEnum):
    """The engines the platform installs."""

    woocommerce = "woocommerce"
    medusa = "medusa"


def store_id(client: Client, value: str) -> str:
    if looks_like_id(value):
        return value
    return str(pick(value, client.every(STORES, "stores"))["id"])


def _sequence(response: Any) -> int | None:
    value = response.headers.get("X-Stream-Sequence")
    return int(value) - 1 if value and value.isdigit() else None


def _wait(client: Client, sid: str, after: int | None, goal: Goal, output: Format) -> None:
    """Follow the store to `goal`, then show it; exit 1 if it failed."""
    if after is not None:
        # Read-your-writes first: the stream route looks the store up in the read model, which may not
        # have seen a store ordered a moment ago (it would answer 404).
        client.send("GET", f"{STORES}/{sid}", headers={"X-Min-Sequence": str(after + 1)})
    events = Follower(client, f"{STORES}/{sid}/events/stream", after=after).events()
    final = until(events, goal, quiet=output is not Format.table)  # JSON and YAML: only the store at the end
    answer = client.send("GET", f"{STORES}/{sid}", headers={"X-Min-Sequence": str(final.sequence)})
    if output is not Format.table:
        print_document(answer.text, output)
    elif final.type in goal.done:
        _print_outcome(answer.json())
    if final.type in goal.failed:
        _explain_failure(answer.json(), final.data)
        raise typer.Exit(FAILED)


def _answer(client: Client, response: Any, sid: str, doing: str, goal: Goal | None, output: Format) -> None:
    """A delete's or retry's 202: shown, or (with a goal: `--wait`) followed until the store gets there."""
    name = response.json()["name"]
    if goal is not None:
        if output is Format.table:
            print(f"{doing} store {name}:", flush=True)
        _wait(client, sid, _sequence(response), goal, output)
    elif output is not Format.table:
        print_document(response.text, output)
    else:
        print(f"{doing} store {name}.")


def _print_outcome(store: dict[str, Any]) -> None:
    if store["status"] == "deleted":
        print(f"Store {store['name']} is deleted.")
        return
    print(f"Store {store['name']} is {store['status']}:")
    print_fields(sorted(store.get("urls", {}).items()))


def _explain_failure(store: dict[str, Any], data: dict[str, Any]) -> None:
    error = store.get("error") or data
    out = errors()
    out.print(f"Store {store['name']} failed at step {error.get('step')}: {error.get('reason')}", markup=False)
    out.print(f"  {error.get('message', '')}", markup=False)
    if store["status"] == "failed":
        out.print(f"Retry it with: storeplane stores retry {store['name']} --wait", markup=False)
    elif error.get("retryable", True):
        out.print(f"Try the deletion again: storeplane stores delete {store['name']} --wait --yes", markup=False)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A DNS label: lower case, digits, hyphens (3 to 48).")],
    engine: Annotated[Engine, typer.Option("--engine", "-e", help="The store's software.")],
    wait: WaitOption = False,
    output: OutputOption = Format.table,
) -> None:
    """Order a store."""
    with client_of(ctx) as client:
        response = client.command("POST", STORES, json={"name": name, "engine": engine.value})
        store = response.json()
        if not wait:
            _show_accepted(response.text, store, output)
            return
        if output is Format.table:
            print(f"Ordered store {store['name']} ({store['id']}), {engine.value}:", flush=True)
        _wait(client, store["id"], _sequence(response), PROVISIONED, output)


def _show_accepted(raw: str, store: dict[str, Any], output: Format) -> None:
    if output is not Format.table:
        print_document(raw, output)
        return
    print(f"Ordered store {store['name']} ({store['id']}): {store['status']}.")
    print(f"Follow it with: storeplane stores events {store['name']} --follow")


@app.command("list")
def list_stores(
    ctx: typer.Context,
    output: OutputOption = Format.table,
    every: Annotated[bool, typer.Option("--all", help="Admins: every user's stores.")] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, max=MAX_PAGE, help="One page of this many stores, not all.")
    ] = None,
    cursor: Annotated[str | None, typer.Option("--cursor", help="The page that a previous --limit named.")] = None,
) -> None:
    """Your stores, newest first: all of them, or one page with --limit (and --cursor for the next)."""
    params = {"all": "true"} if every else {}
    with client_of(ctx) as client:
        if limit is None and cursor is None:
            stores, next_cursor = client.every(STORES, "stores", params=params), None
            raw = json.dumps({"stores": stores, "next": None})
        else:
            page = {"limit": str(limit or DEFAULT_PAGE), **({"cursor": cursor} if cursor else {})}
            response = client.send("GET", STORES, params={**params, **page})
            raw, stores = response.text, response.json()["stores"]
            next_cursor = _cursor_of(response.json()["next"])
    if output is not Format.table:
        print_document(raw, output)
        return
    headers = ["ID", "NAME", "ENGINE", "STATUS", "CREATED", "URL"] + (["OWNER"] if every else [])
    print_table(headers, [_row(store, every) for store in stores])
    if next_cursor:
        print(f"More: storeplane stores list --limit {limit or DEFAULT_PAGE} --cursor {next_cursor}")


def _cursor_of(next_url: str | None) -> str | None:
    """The `cursor` of a page's `next` link (None on the last page)."""
    if not next_url:
        return None
    return parse_qs(urlsplit(next_url).query).get("cursor", [None])[0]


def _row(store: dict[str, Any], with_owner: bool) -> list[str]:
    urls = store.get("urls") or {}
    url = urls.get("storefront") or urls.get("api") or next(iter(urls.values()), "")
    row = [store["id"], store["name"], store["engine"], store["status"], store["created_at"][:19], url]
    return row + ([store.get("owner_id", "")] if with_owner else [])


@app.command("get")
def get(ctx: typer.Context, store: StoreArgument, output: OutputOption = Format.table) -> None:
    """One store: its status, URLs and, if it failed, why."""
    with client_of(ctx) as client:
        response = client.send("GET", f"{STORES}/{store_id(client, store)}")
    if output is not Format.table:
        print_document(response.text, output)
        return
    body = response.json()
    pairs: list[tuple[str, Any]] = [(key, body.get(key)) for key in ("id", "name", "engine", "status", "namespace")]
    pairs += [("created", body["created_at"])] + [(f"url {k}", v) for k, v in sorted(body["urls"].items())]
    if body.get("error"):
        error = body["error"]
        pairs += [("failed step", error["step"]), ("reason", error["reason"]), ("message", error["message"])]
    print_fields(pairs)


@app.command("delete")
def delete(
    ctx: typer.Context,
    store: StoreArgument,
    wait: WaitOption = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    output: OutputOption = Format.table,
) -> None:
    """Delete a store and everything in it (asks first unless --yes)."""
    with client_of(ctx) as client:
        sid = store_id(client, store)
        if not yes:
            typer.confirm(f"Delete store {store} ({sid}) and all its data?", abort=True)
        response = client.command("DELETE", f"{STORES}/{sid}")
        _answer(client, response, sid, "Deleting", DELETED if wait else None, output)


@app.command("retry")
def retry(
    ctx: typer.Context, store: StoreArgument, wait: WaitOption = False, output: OutputOption = Format.table
) -> None:
    """Provision a failed store again, from the step that failed."""
    with client_of(ctx) as client:
        sid = store_id(client, store)
        response = client.command("POST", f"{STORES}/{sid}/retry")
        _answer(client, response, sid, "Retrying", PROVISIONED if wait else None, output)


@app.command("events")
def events(
    ctx: typer.Context,
    store: StoreArgument,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new events as they happen.")] = False,
    output: OutputOption = Format.table,
) -> None:
    """The store's timeline, oldest first; with --follow, live until the store is deleted (or Ctrl-C)."""
    with client_of(ctx) as client:
        sid = store_id(client, store)
        if not follow:
            timeline = client.every(f"{STORES}/{sid}/events", "events")
            if output is not Format.table:
                print_document(json.dumps({"events": timeline, "next": None}), output)
                return
            rows = [[e["occurred_at"][:23], e["type"], str(e["sequence"])] for e in timeline]
            print_table(["TIME", "TYPE", "SEQUENCE"], rows)
            return
        _follow(client, sid, output)


def _follow(client: Client, sid: str, output: Format) -> None:
    """One line per event (the stream's JSON with -o json), flushed at once, until the stream ends."""
    previous = None
    for event in Follower(client, f"{STORES}/{sid}/events/stream").events():
        text = event.raw if output is Format.json else f"{event.occurred_at:%H:%M:%S} {line(event, previous)}"
        print(text, flush=True)
        previous = event.occurred_at


@app.command("credentials")
def credentials(ctx: typer.Context, store: StoreArgument, output: OutputOption = Format.table) -> None:
    """The store's admin login. It is shown once only: save it now."""
    with client_of(ctx) as client:
        response = client.send("GET", f"{STORES}/{store_id(client, store)}/credentials")
    errors().print("These credentials are shown once only: save them now.", markup=False)
    if output is not Format.table:
        print_document(response.text, output)
        return
    body = response.json()
    print_fields([(key, body.get(key)) for key in ("admin_url", "username", "email", "password")])
