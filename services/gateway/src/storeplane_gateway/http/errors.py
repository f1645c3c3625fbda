"""One error shape for every failure the API returns.

Every error body is `{"error": {"code": "<snake_case>", "message": "<what to fix>"}}`, whether
it comes from a refusal of the rules (a domain error), from a handler (`ApiError`), from
Litestar itself (validation, 401, 404, 405, ...) or from a backing service that is down (503
with `Retry-After`); `exception_handlers.py` turns each into this shape.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from litestar import Response
from litestar.openapi.datastructures import ResponseSpec


class ErrorDetail(msgspec.Struct, frozen=True):
    """What went wrong: a stable code for programs and a message for people."""

    code: str
    message: str


class ErrorBody(msgspec.Struct, frozen=True):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """A refusal a handler decided on: status, code and what the client should fix."""

    def __init__(self, status_code: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status_code: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response[ErrorBody]:
    return Response(
        ErrorBody(ErrorDetail(code=code, message=message)),
        status_code=status_code,
        headers=dict(headers or {}),
        media_type="application/json",
    )


def documented(descriptions: Mapping[int, str]) -> dict[int, ResponseSpec]:
    """OpenAPI entries for error responses, each with the error shape: `{404: "`store_not_found`"}`."""
    return {status: ResponseSpec(ErrorBody, description=text) for status, text in descriptions.items()}
