"""Response headers that make browsers treat the API defensively, and CORS, closed unless configured.

Every response, errors and 404s included, gets them from the app's `before_send` hook:
`X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, a
Content-Security-Policy that allows nothing (the API serves JSON) except on the API docs
(`/schema`), whose Swagger UI loads its script and styles from jsdelivr, and on the dashboard's files,
which set their own (`areas/dashboard/`: this origin only, no inline script), and `Cache-Control:
no-store` on the API's answers (they hold tokens and private data) unless a handler set its own.
`Strict-Transport-Security` is sent when `hsts_seconds` is set (TLS ends in front of the gateway).

Request bodies are decoded strictly by `bodies.py`.
"""

from __future__ import annotations

from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
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
        if "content-security-policy" not in headers:  # the dashboard's files set their own (areas/dashboard/)
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
