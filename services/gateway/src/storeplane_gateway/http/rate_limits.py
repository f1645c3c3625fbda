"""Rate limits with Litestar's `RateLimitConfig`: per client address and per user, per minute.

A route handler joins a limit with `opt={"rate_limit": "<bucket>"}`; each limit here counts the
requests of one bucket, keyed by the client address or by the authenticated user. Refusals are
429 `too_many_requests` with `Retry-After` (`exception_handlers.py` turns the middleware's
`RateLimit-Reset` into it). Counters live in the app's memory store, so each gateway replica
counts on its own: a client can send up to (replicas times the limit); the per-email login
throttle (`adapters/postgres/logins.py`) is shared.
Behind a proxy, the client address is the one uvicorn takes from `X-Forwarded-For` when the proxy
is listed in `forwarded_allow_ips`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address

from storeplane_gateway.domain.principals import Principal

RATE_LIMIT = "rate_limit"  # the route handler option naming the bucket
STORE_CREATES = "store_creates"
AUTH = "auth"  # register, log in, refresh
# Webhook commands that make an endpoint, a secret or outgoing requests: create, test, resend, recover, rotate.
WEBHOOK_COMMANDS = "webhook_commands"


def _in_bucket(bucket: str) -> Callable[[Request[Any, Any, Any]], bool]:
    def applies(request: Request[Any, Any, Any]) -> bool:
        return bool(request.route_handler.opt.get(RATE_LIMIT) == bucket)

    return applies


def per_address(bucket: str, per_minute: int) -> DefineMiddleware | None:
    """At most `per_minute` requests of `bucket` per client address; None when 0 (no limit)."""
    if per_minute <= 0:
        return None

    def identify(request: Request[Any, Any, Any]) -> str:
        return f"{bucket}:address:{get_remote_address(request)}"

    config = RateLimitConfig(
        rate_limit=("minute", per_minute), identifier_for_request=identify, check_throttle_handler=_in_bucket(bucket)
    )
    return config.middleware


def per_user(bucket: str, per_minute: int) -> DefineMiddleware | None:
    """At most `per_minute` requests of `bucket` per authenticated user (after the authentication middleware)."""
    if per_minute <= 0:
        return None

    def identify(request: Request[Any, Any, Any]) -> str:
        user = request.scope.get("user")
        return f"{bucket}:user:{user.id if isinstance(user, Principal) else get_remote_address(request)}"

    config = RateLimitConfig(
        rate_limit=("minute", per_minute), identifier_for_request=identify, check_throttle_handler=_in_bucket(bucket)
    )
    return config.middleware


def present(*middleware: DefineMiddleware | None) -> list[DefineMiddleware]:
    return [m for m in middleware if m is not None]
