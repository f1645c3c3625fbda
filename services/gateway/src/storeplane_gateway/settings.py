"""The gateway's settings: the shared ones plus its HTTP socket, its users' database, its tokens
and the limits it enforces. `production_problems()` says what a production deployment must not keep."""

from __future__ import annotations

import ipaddress
import json
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from storeplane_contracts.events import Engine
from storeplane_contracts.subjects import AUDIT_RETENTION_SECONDS
from storeplane_runtime.settings import CommonSettings

JWT_SECRET_MISSING = (
    "STOREPLANE_JWT_SECRET is not set; set a random key of at least 32 characters, the same for every "
    "gateway (for example `openssl rand -hex 32`, or the chart's generated Secret)"
)

# A list from the environment: JSON (`["a@example.com"]`) or comma-separated (`a@example.com,b@example.com`).
ListFromEnv = Annotated[tuple[str, ...], NoDecode]


# The dashboard's build (`npm --prefix services/dashboard run build`) in this repository's checkout.
DEFAULT_DASHBOARD_DIR = Path(__file__).resolve().parents[3] / "dashboard" / "dist"

ADMIN_EMAILS_GONE = (
    "STOREPLANE_ADMIN_EMAILS is no longer read (whoever registered a listed email first became admin); "
    "unset it and grant admins with `storeplane-gateway admin grant EMAIL` once they registered"
)


class InsecureConfiguration(Exception):
    """Production mode with a setting that is only fit for a developer's machine."""


class GatewaySettings(CommonSettings):
    """Settings for the gateway, from `STOREPLANE_*` environment variables."""

    # `production` refuses to start with development defaults (see `production_problems`).
    env: Literal["development", "production"] = "development"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # Comma-separated addresses or networks of the proxies whose X-Forwarded-For is believed
    # (`http/client_address.py`), so that rate limits and the audit trail see the client's address,
    # not the ingress controller's. None by default: any client could write the header.
    forwarded_allow_ips: str = ""
    # Slow clients (`http/server.py`): a request's headers, then its body, must arrive within these;
    # an idle kept-alive connection is closed after `http_keep_alive_timeout_seconds`; a request on a
    # connection beyond `http_max_connections` (per process) is refused with 503.
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    http_body_timeout_seconds: float = Field(default=10.0, gt=0)
    http_keep_alive_timeout_seconds: int = Field(default=5, ge=1)
    # Above `streams_per_process`, so that a process full of event streams still answers other requests.
    http_max_connections: int = Field(default=2500, ge=1)
    database_url: str = "postgresql://storeplane@127.0.0.1:5433/storeplane"
    database_pool_size: int = 10
    # Jaeger's query API, asked for a store's trace (GET /api/v1/stores/{id}/trace); empty: that route answers 503.
    trace_query_url: str = ""
    # HS256 wants at least 32 bytes of key; PyJWT warns about shorter ones. Unset, a random key of this
    # process alone (tokens die with it): `make up` passes the one it keeps in .storeplane/secrets/, and
    # production refuses to start without one. Never a constant: with the source, one could sign admins.
    jwt_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(48), min_length=32)
    # Access tokens (the bearer token for API calls) and refresh tokens (to get new ones).
    token_ttl_seconds: int = Field(default=3600, gt=0)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    # No longer read: whoever registered a listed email first became admin. Admins are granted with
    # `storeplane-gateway admin grant EMAIL`; production refuses to start while this is set.
    admin_emails: ListFromEnv = ()
    # Live stores (not yet deleted) per user, unless an admin set the user's own limit.
    max_stores_per_user: int = Field(default=5, ge=0)
    # Requests per minute; 0 turns a limit off. Store creation per user and per client address;
    # register, log in and refresh together per client address.
    store_creates_per_minute_per_user: int = Field(default=10, ge=0)
    store_creates_per_minute_per_address: int = Field(default=30, ge=0)
    auth_requests_per_minute_per_address: int = Field(default=30, ge=0)
    # Webhook commands that make an endpoint, a secret or outgoing requests (create, test, resend,
    # recover, rotate-secret), per user and per client address.
    webhook_commands_per_minute_per_user: int = Field(default=30, ge=0)
    webhook_commands_per_minute_per_address: int = Field(default=60, ge=0)
    # Failed logins for one email: this many are free, then each further one doubles the wait
    # before the next attempt (1 s, 2 s, 4 s, ...), up to `login_max_delay_seconds`.
    login_free_failures: int = Field(default=3, ge=0)
    login_max_delay_seconds: int = Field(default=900, ge=1)
    # Argon2id hashes (64 MiB each) at once, and logins or registrations waiting for one; a request
    # beyond both is refused at once with 503 and Retry-After.
    password_hashes_at_once: int = Field(default=2, ge=1)
    password_hash_queue: int = Field(default=16, ge=0)
    # The dashboard's built files, served at `/` (areas/dashboard/); not built, `/` answers 503.
    dashboard_dir: Path = DEFAULT_DASHBOARD_DIR
    # Browser origins allowed to call the API (CORS); none by default: CORS closed.
    cors_origins: ListFromEnv = ()
    # Strict-Transport-Security max-age; 0 sends none (set it when TLS ends in front of the gateway).
    hsts_seconds: int = Field(default=0, ge=0)
    # How long the AUDIT stream keeps records.
    audit_retention_seconds: float = Field(default=AUDIT_RETENTION_SECONDS, gt=0)
    # Engines users may order now; the others are known (they have a chart) but not offered yet.
    installable_engines: tuple[Engine, ...] = ("woocommerce", "medusa")
    # Seconds a client is told to wait before retrying after a 503.
    retry_after_seconds: int = 5
    # A publish whose ack times out is repeated with the same message id (deduplicated by the server).
    publish_attempts: int = Field(default=3, ge=1)
    # A store's quota slot is reserved until JetStream acknowledges its request. A reservation still
    # unconfirmed after this long (its gateway died, or the ack was lost) is settled by the stream:
    # kept if the store's StoreRequested is there, freed if not. Longer than every publish attempt takes.
    slot_lease_seconds: int = Field(default=120, gt=0)
    # How long an Idempotency-Key holds its command's answer for retries.
    idempotency_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    # A keyed command whose gateway died before it answered frees its key after this long: longer
    # than any command takes (its queries, database calls and publish attempts all time out sooner).
    idempotency_lease_seconds: int = Field(default=120, gt=0)

    # Server-sent event streams (docs/streams.md): open at once per user and per gateway process;
    # a stream with nothing to send for `stream_idle_seconds` is closed (the client resumes with its
    # last id); a comment every `stream_keepalive_seconds` keeps idle connections open through proxies;
    # clients are told to reconnect after `stream_retry_ms`.
    streams_per_user: int = Field(default=10, ge=1)
    streams_per_process: int = Field(default=2000, ge=1)
    stream_idle_seconds: float = Field(default=3600.0, gt=0)
    stream_keepalive_seconds: float = Field(default=15.0, gt=0)
    stream_retry_ms: int = Field(default=3000, ge=0)
    # Events a stream may have waiting for a slow client before it is closed (it resumes with its last id).
    stream_buffer_events: int = Field(default=1000, ge=1)
    # Catch-ups (reading the stored events after a client's last id) run at most this many at once per
    # process; the others wait their turn (their live events are kept meanwhile), so that a thousand
    # clients reconnecting together do not thrash the gateway and NATS.
    stream_catch_ups: int = Field(default=8, ge=1)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError names the part that is not one
        return value

    @field_validator("admin_emails", "cors_origins", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return tuple(json.loads(text))
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value

    def production_problems(self) -> list[str]:
        """What production mode refuses; empty in development or when every setting is fit."""
        if self.env != "production":
            return []
        problems = []
        if "jwt_secret" not in self.model_fields_set:
            problems.append(JWT_SECRET_MISSING)
        if self.admin_emails:
            problems.append(ADMIN_EMAILS_GONE)
        if "*" in self.cors_origins:
            problems.append("STOREPLANE_CORS_ORIGINS contains '*'; list the browser origins allowed to call the API")
        return problems

    def check_production(self) -> None:
        """Raise InsecureConfiguration naming every problem, in production mode."""
        if problems := self.production_problems():
            raise InsecureConfiguration("STOREPLANE_ENV=production but " + "; ".join(problems))
