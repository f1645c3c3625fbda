"""Secrets and Standard Webhooks v1 signatures, made with the `standardwebhooks` package.

A secret is `whsec_` and 24 random bytes in base64. Each attempt is signed anew with its own
`webhook-timestamp` (receivers refuse stale timestamps); `webhook-id` stays the message's id.
While a rotated-out secret is still valid, the message carries both signatures, space-separated.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from math import floor

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signed_headers(signing_secrets: Sequence[str], message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt sent at `at` (timezone-aware)."""
    at = at.astimezone(UTC)
    text = body.decode()
    signature = " ".join(Webhook(secret).sign(message_id, at, text) for secret in signing_secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "Storeplane-Webhooks/1",
    }
