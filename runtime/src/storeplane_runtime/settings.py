"""Settings from `STOREPLANE_*` environment variables, with local defaults that just work."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storeplane_contracts.permissions import inbox_prefix

# The repository root when running from a checkout: local state lives in .storeplane/ (or where
# STOREPLANE_STATE_DIR says: the tests run a whole `make up` in a folder of their own).
ROOT = Path(__file__).resolve().parents[3]
STATE_DIR = Path(os.environ.get("STOREPLANE_STATE_DIR", ROOT / ".storeplane"))


class CommonSettings(BaseSettings):
    """What every service needs: where the bus is, and how to log and trace."""

    model_config = SettingsConfigDict(env_prefix="STOREPLANE_", extra="ignore")

    # One server, or a cluster's servers comma-separated (a client needs one that is up to connect).
    nats_url: str = "nats://127.0.0.1:4222"
    # The service's own NATS user (storeplane_contracts.permissions); none on a server without users.
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    log_level: str = "INFO"
    # JSON lines (with trace_id, span_id and store_id) unless told otherwise; `make up` turns them off.
    log_json: bool = True
    # Seconds a query over NATS request-reply may take before the caller gives up.
    query_timeout: float = 5.0
    # Copies of the STORES and AUDIT streams (and so of their durable consumers): 1 on one server,
    # 3 on a three-node JetStream cluster, so that a node's loss loses nothing (docs/reliability.md).
    stream_replicas: int = Field(default=1, ge=1, le=5)

    def nats_login(self) -> NatsLogin | None:
        """The service's NATS user, if it has one."""
        return NatsLogin(self.nats_user, self.nats_password) if self.nats_user is not None else None


@dataclass(frozen=True)
class NatsLogin:
    """A NATS user and its password, replies on that user's own inbox (`_INBOX.<user>.>`)."""

    user: str
    password: SecretStr | None

    @property
    def inbox_prefix(self) -> str:
        return inbox_prefix(self.user)

    def secret(self) -> str:
        return self.password.get_secret_value() if self.password is not None else ""

    def connect_options(self) -> dict[str, Any]:
        """nats-py's `connect` keywords."""
        return {"user": self.user, "password": self.secret(), "inbox_prefix": self.inbox_prefix}
