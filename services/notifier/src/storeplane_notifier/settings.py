"""The notifier's settings: the shared ones, where its tables live, and the delivery policy."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from storeplane_runtime.settings import CommonSettings

# Seconds after each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Svix's schedule).
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class NotifierSettings(CommonSettings):
    """Settings for the notifier, from `STOREPLANE_*` environment variables."""

    # `production` accepts only https endpoints; `development` accepts http too.
    env: Literal["development", "production"] = "development"
    database_url: str = "postgresql://storeplane@127.0.0.1:5433/storeplane"
    database_pool_size: int = 10
    # Comma-separated or JSON: seconds to wait after the 1st, 2nd ... failed attempt; one more
    # failure than there are entries exhausts the message.
    webhook_retry_schedule: Annotated[tuple[float, ...], NoDecode] = DEFAULT_RETRY_SCHEDULE
    # Each wait is stretched or shrunk by up to this fraction at random, so retries do not march in step.
    webhook_retry_jitter: float = Field(default=0.1, ge=0, le=1)
    # Seconds one attempt may take in all (connecting, sending, the answer's first KiB).
    webhook_timeout: float = Field(default=15.0, gt=0)
    # An endpoint failing this long without a single success is disabled.
    webhook_disable_after_seconds: float = Field(default=5 * 24 * 3600.0, gt=0)
    # Hosts (exact names) or CIDRs an endpoint may reach although they are loopback, private,
    # link-local ...: `make up` allows loopback so a local receiver works. Empty in production.
    webhook_allowed_targets: Annotated[tuple[str, ...], NoDecode] = ()
    # Endpoints per user.
    webhook_max_endpoints: int = Field(default=20, ge=0)
    # How long the previous secret keeps signing after a rotation.
    webhook_rotation_overlap_seconds: float = Field(default=24 * 3600.0, ge=0)
    # Endpoints delivered to at once (each endpoint has at most one attempt in flight).
    delivery_concurrency: int = Field(default=64, gt=0)
    # A lease on a message outlives the attempt's timeout by this much: after a crash, the message is
    # tried again by another instance (or after a restart) once it runs out.
    webhook_lease_margin_seconds: float = Field(default=30.0, gt=0)
    # How often the scheduler looks for due attempts when nothing woke it.
    scheduler_interval: float = Field(default=1.0, gt=0)
    # Where Prometheus scrapes `/metrics` (port 0: not served); 0.0.0.0 in a pod.
    notifier_metrics_host: str = "127.0.0.1"
    notifier_metrics_port: int = Field(default=9102, ge=0)
    query_concurrency: int = 16
    # Seconds FastStream waits for the message in hand when stopping.
    graceful_timeout: float = 10.0

    @field_validator("webhook_retry_schedule", "webhook_allowed_targets", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return tuple(json.loads(text))
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value
