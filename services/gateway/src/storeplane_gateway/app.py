"""The gateway's composition root: `create_app(settings)` wires routes, auth, errors and adapters.

Nothing connects at import time or in `create_app`; the app's lifespan builds the adapters
(the NATS broker, connected in the background, and the asyncpg pool with the users table)
and closes them on shutdown. Tests pass their own `adapters` factory to swap in fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import cast

import asyncpg
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from storeplane_gateway.auth import TokenIssuer, make_jwt_auth
from storeplane_gateway.errors import exception_handlers
from storeplane_gateway.messaging import NatsBus
from storeplane_gateway.passwords import Passwords
from storeplane_gateway.ports import Adapters, Bus, StatusQueries, StoreSecrets, Users
from storeplane_gateway.routes.auth import auth_router
from storeplane_gateway.routes.health import health_router
from storeplane_gateway.routes.stores import stores_router
from storeplane_gateway.settings import GatewaySettings
from storeplane_gateway.status_client import NatsStatusClient, NatsStoreSecrets
from storeplane_gateway.tracing import tracing_plugin
from storeplane_gateway.users import PostgresUsers, ensure_schema
from storeplane_runtime.bus import make_broker

AdapterFactory = Callable[[GatewaySettings], AbstractAsyncContextManager[Adapters]]

# The API's bodies are small; anything bigger is a mistake or an attack.
MAX_BODY_BYTES = 64 * 1024
DATABASE_TIMEOUT_SECONDS = 10.0


@asynccontextmanager
async def connect_adapters(settings: GatewaySettings) -> AsyncIterator[Adapters]:
    """The real adapters: NATS (connecting in the background) and Postgres (ready before we serve)."""
    async with AsyncExitStack() as stack:
        bus = NatsBus(make_broker(settings.nats_url, service="gateway"), publish_attempts=settings.publish_attempts)
        bus.start()
        stack.push_async_callback(bus.stop)
        pool = await asyncpg.create_pool(
            settings.database_url,
            min_size=1,
            max_size=settings.database_pool_size,
            timeout=DATABASE_TIMEOUT_SECONDS,  # to connect
            command_timeout=DATABASE_TIMEOUT_SECONDS,
        )
        stack.push_async_callback(pool.close)
        await ensure_schema(pool)
        yield Adapters(
            users=PostgresUsers(pool),
            bus=bus,
            status=NatsStatusClient(bus, timeout=settings.query_timeout),
            secrets=NatsStoreSecrets(bus, timeout=settings.query_timeout),
        )


def _adapters(state: State) -> Adapters:
    return cast(Adapters, state.adapters)


def provide_users(state: State) -> Users:
    return _adapters(state).users


def provide_bus(state: State) -> Bus:
    return _adapters(state).bus


def provide_status_queries(state: State) -> StatusQueries:
    return _adapters(state).status


def provide_store_secrets(state: State) -> StoreSecrets:
    return _adapters(state).secrets


def create_app(settings: GatewaySettings, *, adapters: AdapterFactory = connect_adapters) -> Litestar:
    jwt_auth = make_jwt_auth(settings)
    tokens = TokenIssuer(jwt_auth, ttl_seconds=settings.token_ttl_seconds)
    passwords = Passwords()
    prometheus = PrometheusConfig(app_name="storeplane-gateway", prefix="storeplane_gateway", group_path=True)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with adapters(settings) as built:
            app.state.adapters = built
            yield

    def provide_settings() -> GatewaySettings:
        return settings

    def provide_passwords() -> Passwords:
        return passwords

    def provide_tokens() -> TokenIssuer:
        return tokens

    return Litestar(
        route_handlers=[
            health_router(),
            auth_router(),
            stores_router(jwt_auth.middleware, jwt_auth.openapi_security_scheme_name),
            PrometheusController,
        ],
        dependencies={
            "settings": Provide(provide_settings, sync_to_thread=False),
            "passwords": Provide(provide_passwords, sync_to_thread=False),
            "tokens": Provide(provide_tokens, sync_to_thread=False),
            "users": Provide(provide_users, sync_to_thread=False),
            "bus": Provide(provide_bus, sync_to_thread=False),
            "status_queries": Provide(provide_status_queries, sync_to_thread=False),
            "store_secrets": Provide(provide_store_secrets, sync_to_thread=False),
        },
        lifespan=[lifespan],
        middleware=[prometheus.middleware],
        plugins=[tracing_plugin()],
        exception_handlers=exception_handlers(retry_after_seconds=settings.retry_after_seconds),
        openapi_config=OpenAPIConfig(
            title="Storeplane API",
            version="1.0.0",
            description="Self-service e-commerce stores. Get a token at /api/v1/auth/register or /login.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            components=[jwt_auth.openapi_components],
        ),
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,
    )
