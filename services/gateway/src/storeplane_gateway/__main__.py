"""`storeplane-gateway`: run the public HTTP API with uvicorn on `http_host:http_port` (`http/server.py`);
`storeplane-gateway admin grant|revoke EMAIL` and `admin list`: the operator's commands on who is
an admin, on the gateway's database (`areas/admin/services.py`).

In production mode the server refuses to start with settings fit only for development (the
default JWT key above all), saying which and how to fix them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
from collections.abc import Sequence

import asyncpg
import structlog
import uvicorn
from litestar import Litestar

from storeplane_gateway.adapters.postgres.migrations import ensure_schema
from storeplane_gateway.adapters.postgres.pool import create_pool
from storeplane_gateway.adapters.postgres.sessions import PostgresSessions
from storeplane_gateway.adapters.postgres.users import PostgresUsers
from storeplane_gateway.app import create_app
from storeplane_gateway.areas.admin.services import UnknownAccount, grant_admin, list_admins, revoke_admin
from storeplane_gateway.areas.streams.controllers import open_streams_of
from storeplane_gateway.domain.errors import DatabaseUnavailable
from storeplane_gateway.http.server import server_config
from storeplane_gateway.settings import ADMIN_EMAILS_GONE, GatewaySettings, InsecureConfiguration
from storeplane_runtime.logs import setup_logging
from storeplane_runtime.serving import traced_process

PROGRAM = "storeplane-gateway"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Storeplane's API gateway; no command: serve the API.")
    commands = parser.add_subparsers(dest="command")
    admin = commands.add_parser("admin", help="grant, revoke or list the admin role (on the gateway's database)")
    actions = admin.add_subparsers(dest="action", required=True)
    for action, text in (
        ("grant", "make the account registered with EMAIL an admin, from its next login or refresh"),
        ("revoke", "make the account a user again and end its sessions at once"),
    ):
        actions.add_parser(action, help=text).add_argument("email", metavar="EMAIL")
    actions.add_parser("list", help="the accounts that are admins")
    return parser.parse_args(argv)


async def run_admin(settings: GatewaySettings, action: str, email: str = "") -> int:
    """Carry out one `admin` command on the database of `settings`; the exit status."""
    try:
        pool = await create_pool(settings.database_url, max_size=1, command_timeout=None)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"{PROGRAM}: cannot reach the database at STOREPLANE_DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    try:
        await ensure_schema(pool)
        users, sessions = PostgresUsers(pool), PostgresSessions(pool)
        if action == "list":
            for account in await list_admins(users=users):
                print(f"{account.email}\t{account.id}")
        elif action == "grant":
            account, changed = await grant_admin(email, users=users)
            state = "is now an admin (from its next login or token refresh)" if changed else "is already an admin"
            print(f"{account.email} ({account.id}) {state}")
        else:
            account, changed, ended = await revoke_admin(email, users=users, sessions=sessions)
            state = f"is no longer an admin; {ended} session(s) ended" if changed else "was not an admin"
            print(f"{account.email} ({account.id}) {state}")
    except UnknownAccount:
        print(f"{PROGRAM}: no account is registered with {email!r}; its owner registers first", file=sys.stderr)
        return 1
    except DatabaseUnavailable as exc:
        print(f"{PROGRAM}: the database did not answer: {exc}", file=sys.stderr)
        return 2
    finally:
        await pool.close()
    return 0


# How long the event streams get to send their last comment before the connections close.
STREAMS_GOODBYE_SECONDS = 0.5
# A connection still open this long after shutdown began is cut (a stream's client that does not read).
GRACEFUL_SHUTDOWN_SECONDS = 10


class GatewayServer(uvicorn.Server):
    """uvicorn's server, which ends the gateway's event streams first when it shuts down: uvicorn waits
    for every response to finish, and a stream never would, so its clients would hang until cut
    (instead, they are told to reconnect, with their last id, to another gateway)."""

    def __init__(self, config: uvicorn.Config, app: Litestar) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # accept no new connection: a client reconnecting now goes elsewhere
        open_streams_of(self._app.state).shutdown()
        await asyncio.sleep(STREAMS_GOODBYE_SECONDS)
        await super().shutdown(sockets)


def serve(app: Litestar, config: uvicorn.Config) -> None:
    """What `uvicorn.run` does, on the gateway's server: Ctrl-C (raised again by uvicorn once it has
    stopped) is a clean exit."""
    with contextlib.suppress(KeyboardInterrupt):
        GatewayServer(config, app).run()


def main(argv: Sequence[str] | None = None) -> None:
    arguments = _arguments(argv)
    settings = GatewaySettings()
    if arguments.command == "admin":
        setup_logging(settings.log_level, json=settings.log_json)
        sys.exit(asyncio.run(run_admin(settings, arguments.action, getattr(arguments, "email", ""))))
    with traced_process("gateway", settings):  # uvicorn stops on SIGINT or SIGTERM by itself
        try:
            app = create_app(settings)
        except InsecureConfiguration as exc:
            sys.exit(f"{PROGRAM}: refusing to start: {exc}")
        if settings.admin_emails:
            structlog.get_logger(__name__).warning("settings.admin_emails_ignored", problem=ADMIN_EMAILS_GONE)
        config = server_config(
            app,
            settings,
            host=settings.http_host,
            port=settings.http_port,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        serve(app, config)


if __name__ == "__main__":
    main()
