"""Login sessions, and the login throttle's answer to an attempt."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Session(msgspec.Struct, frozen=True):
    """One login: its tokens carry its id; it lives until logout, `logout-all` or expiry."""

    id: str
    user_id: str
    refresh_jti: str  # the one refresh token that may be used next (rotated on every refresh)
    expires_at: datetime


class LoginClaim(msgspec.Struct, frozen=True):
    """A login attempt as the throttle took it."""

    # > 0: refused, nothing counted; the email may be tried again after this many seconds.
    retry_after: float = 0.0
    # Taken (and counted as a failure): how long the next attempt must wait if this one fails.
    delay_if_failed: float = 0.0
