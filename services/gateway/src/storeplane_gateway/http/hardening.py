"""Response headers that make browsers treat the API defensively, and CORS, closed unless configured.

Every response, errors and 404s included, gets them from the app's `before_send` hook:
`X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, a
Content-Security-Policy that allows nothing (the API serves JSON) except on the API docs
(`/schema`), whose Swagger UI loads its script and styles from jsdelivr, and `Cache-Control:
no-store` on the API's answers (they hold tokens and private data) unless a handler set its own.
`Strict-Transport-Security` is sent when `hsts_seconds` is set (TLS ends in front of the gateway).

Request bodies are decoded strictly (`strict_body`): Litestar converts a body to its struct with
msgspec's lax rules, which would take `"9"` for 9 or `"true"` for true; here a JSON body must have
exactly the declared fields with exactly the declared JSON types, or it is a 400 `invalid_body`
naming the field, as is a string holding a NUL character. With `forbid_unknown_fields` on every
request struct, a client cannot set a field the API does not offer (no mass assignment).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import ValidationException
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from storeplane_gateway.settings import GatewaySettings

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI: the bundle and its styles from jsdelivr, an inline script that starts it.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "connect-src 'self'; font-src 'self' data: https://cdn.jsdelivr.net; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PATH = "/schema"
# Headers a browser on another origin may read from our answers (when CORS lets it in at all).
EXPOSED_HEADERS = [
    "Location",
    "Retry-After",
    "Idempotent-Replayed",
    "X-Stream-Sequence",
    "X-Trace-Id",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
]


def security_headers(*, hsts_seconds: int) -> BeforeMessageSendHookHandler:
    fixed = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
    }
    if hsts_seconds:
        fixed["strict-transport-security"] = f"max-age={hsts_seconds}; includeSubDomains"

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in fixed.items():
            headers[name] = value
        path = scope.get("path", "")
        docs = path == DOCS_PATH or path.startswith(DOCS_PATH + "/")
        headers["content-security-policy"] = DOCS_CSP if docs else API_CSP
        if path.startswith("/api/") and "cache-control" not in headers:
            headers["cache-control"] = "no-store"

    return add_security_headers


def cors_config(settings: GatewaySettings) -> CORSConfig | None:
    """CORS for the configured browser origins; None (no CORS headers at all) when there are none."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Min-Sequence", "Idempotency-Key"],
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,  # bearer tokens, never cookies
        max_age=600,
    )


_decoders: dict[type[msgspec.Struct], msgspec.json.Decoder[Any]] = {}
_AT = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$")


async def strict_body(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: the JSON body decodes strictly into the handler's `data` struct, or 400."""
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    body_type = parameter.annotation if parameter is not None else None
    if not (isinstance(body_type, type) and issubclass(body_type, msgspec.Struct)):
        return
    body = await request.body()
    if not body.strip():
        return  # Litestar itself says that a body is required
    decoder = _decoders.get(body_type)
    if decoder is None:
        decoder = _decoders[body_type] = msgspec.json.Decoder(body_type, strict=True)
    try:
        decoded = decoder.decode(body)
    except msgspec.ValidationError as exc:
        match = _AT.match(str(exc))
        message, path = (match["message"], match["path"].lstrip(".")) if match else (str(exc), "")
        raise _invalid_body(path, message) from None
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar's own error says so
    if (path := _nul_at(msgspec.to_builtins(decoded), "")) is not None:
        # No text the API keeps may hold one (Postgres text cannot), and no legitimate value needs one.
        raise _invalid_body(path, "must not contain the NUL character (\\u0000)")


def _invalid_body(path: str, message: str) -> ValidationException:
    return ValidationException(
        "Validation failed", extra=[{"key": path or "data", "message": message, "source": "body"}]
    )


def _nul_at(value: Any, path: str) -> str | None:
    """The path of the first string in `value` holding a NUL character, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        inner = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))
        if (found := _nul_at(item, inner)) is not None:
            return found
    return None
