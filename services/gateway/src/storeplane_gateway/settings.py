"""The gateway's settings: the shared ones plus its HTTP socket, its users' database and its tokens."""

from __future__ import annotations

from pydantic import Field

from storeplane_contracts.events import Engine
from storeplane_runtime.settings import CommonSettings

# Only for local development; every deployment sets STOREPLANE_JWT_SECRET.
DEVELOPMENT_JWT_SECRET = "storeplane-development-only-jwt-secret-change-me"


class GatewaySettings(CommonSettings):
    """Settings for the gateway, from `STOREPLANE_*` environment variables."""

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    database_url: str = "postgresql://storeplane@127.0.0.1:5433/storeplane"
    database_pool_size: int = 10
    # HS256 wants at least 32 bytes of key; PyJWT warns about shorter ones.
    jwt_secret: str = Field(default=DEVELOPMENT_JWT_SECRET, min_length=32)
    token_ttl_seconds: int = Field(default=3600, gt=0)
    # Engines users may order now; the others are known (they have a chart) but not offered yet.
    installable_engines: tuple[Engine, ...] = ("woocommerce", "medusa")
    # Seconds a client is told to wait before retrying after a 503.
    retry_after_seconds: int = 5
    # A publish whose ack times out is repeated with the same message id (deduplicated by the server).
    publish_attempts: int = Field(default=3, ge=1)
