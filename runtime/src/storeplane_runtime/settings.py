"""Settings from `STOREPLANE_*` environment variables, with local defaults that just work."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

# The repository root when running from a checkout: local state lives in .storeplane/.
ROOT = Path(__file__).resolve().parents[3]
STATE_DIR = ROOT / ".storeplane"


class CommonSettings(BaseSettings):
    """What every service needs: where the bus is, and how to log and trace."""

    model_config = SettingsConfigDict(env_prefix="STOREPLANE_", extra="ignore")

    nats_url: str = "nats://127.0.0.1:4222"
    log_level: str = "INFO"
    log_json: bool = False
    # Seconds a query over NATS request-reply may take before the caller gives up.
    query_timeout: float = 5.0
