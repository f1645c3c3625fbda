"""What can go wrong in a command, and the exit status each failure means.

0: done; 1: the platform refused or failed (an API error, a store that failed); 2: a usage error
(bad arguments, which Click reports itself, or a request the API found invalid: 400 or 422).
"""

from __future__ import annotations

from typing import Any

import httpx

OK = 0
FAILED = 1
USAGE = 2
INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT
# The API refused what was asked, as asked: fix the command, not the platform.
_USAGE_STATUSES = frozenset({400, 422})


class CliError(Exception):
    """A failure the CLI explains in one message and turns into an exit status."""

    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ApiError(CliError):
    """An error answer of the gateway: `{"error": {"code", "message"}}` with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{message} ({code})", USAGE if status in _USAGE_STATUSES else FAILED)
        self.status = status
        self.code = code
        self.api_message = message
        self.retry_after = retry_after

    @classmethod
    def of(cls, response: httpx.Response) -> ApiError:
        code, message = f"http_{response.status_code}", response.reason_phrase or "error"
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = str(body["error"].get("code", code))
            message = str(body["error"].get("message", message))
        return cls(response.status_code, code, message, retry_after_of(response))


def retry_after_of(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
