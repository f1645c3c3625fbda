"""One error shape for every failure the API returns, and the handlers that produce it.

Every error body is `{"error": {"code": "<snake_case>", "message": "<what to fix>"}}`, whether
it comes from a handler (`ApiError`), from Litestar itself (validation, 401, 404, 405, ...) or
from a backing service that is down (503 with `Retry-After`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ExceptionHandlersMap

from storeplane_gateway.ports import (
    BusUnavailable,
    DatabaseUnavailable,
    DependencyUnavailable,
    ProvisionerUnavailable,
    PublishUnconfirmed,
    StatusUnavailable,
)

log = structlog.get_logger(__name__)

LOGIN_HINT = "POST /api/v1/auth/login (or /api/v1/auth/register) returns a token"


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


_CODES_BY_STATUS = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}

# The first kind that matches wins: a subclass before its base.
_UNAVAILABLE: dict[type[DependencyUnavailable], tuple[str, str]] = {
    PublishUnconfirmed: (
        "bus_unavailable",
        "the event bus (NATS) did not confirm the request in time, so it may have been accepted: "
        "look at GET /api/v1/stores before you order again",
    ),
    BusUnavailable: ("bus_unavailable", "the event bus (NATS) is unavailable"),
    StatusUnavailable: ("status_unavailable", "the status service did not answer"),
    ProvisionerUnavailable: (
        "provisioner_unavailable",
        "the provisioner could not read the store's credentials from the cluster; nothing was revealed, try again",
    ),
    DatabaseUnavailable: ("database_unavailable", "the gateway's database did not answer"),
}


def _wire_name(request: Request[Any, Any, Any], key: str) -> str:
    """The header or query name the client used for handler parameter `key` (e.g. `X-Min-Sequence`)."""
    try:
        parameter = request.route_handler.parsed_fn_signature.parameters[key]
    except (AttributeError, KeyError):
        return key
    definition = parameter.kwarg_definition
    return str(getattr(definition, "name", None) or key)


def _validation_message(request: Request[Any, Any, Any], exc: ValidationException) -> tuple[str, str]:
    """Turn Litestar's list of problems into one sentence and pick `invalid_body` or `invalid_request`."""
    problems = exc.extra if isinstance(exc.extra, list) else []
    parts: list[str] = []
    sources: set[str] = set()
    for problem in problems:
        if not isinstance(problem, dict):
            continue
        raw_source = problem.get("source") or ""
        source = str(getattr(raw_source, "value", raw_source))
        key = str(problem.get("key") or "")
        message = str(problem.get("message") or "invalid value")
        sources.add(source)
        if source == "body":
            if key == "data" and message in {"'data'", '"data"'}:
                parts.append("a JSON object body is required")
            elif key == "data":
                parts.append(f"body: {message}")
            else:
                parts.append(f"body field `{key}`: {message}")
        elif source in {"header", "query", "path", "cookie"}:
            parts.append(f"{source} `{_wire_name(request, key)}`: {message}")
        else:
            parts.append(message)
    if not parts:
        return "invalid_request", exc.detail
    code = "invalid_body" if sources == {"body"} else "invalid_request"
    return code, "; ".join(parts)


def _http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    status_code = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        code, message = _validation_message(request, exc)
        return error_response(status_code, code, message, headers)
    if isinstance(exc, NotAuthorizedException) or status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
        if request.headers.get("authorization"):
            message = f"the bearer token is invalid or expired; log in again: {LOGIN_HINT}"
        else:
            message = f"send `Authorization: Bearer <token>`; {LOGIN_HINT}"
        return error_response(401, "not_authenticated", message, headers)
    if status_code == 404:
        message = f"no resource at {request.method} {request.url.path}; the API is described at /schema"
        return error_response(404, "not_found", message, headers)
    if status_code == 405:
        allowed = headers.get("allow") or headers.get("Allow") or ""
        message = f"{request.method} is not allowed on {request.url.path}"
        if allowed:
            message += f"; allowed: {allowed}"
        return error_response(405, "method_not_allowed", message, headers)
    if status_code == 429:
        return _too_many_requests(headers)
    if status_code >= 500:
        log.error("http.server_error", path=request.url.path, detail=exc.detail, exc_info=exc)
        return error_response(status_code, "internal_error", "the gateway failed; try again later", headers)
    detail = exc.detail
    if detail.startswith("JSON is malformed"):
        return error_response(400, "invalid_body", f"the body is not valid JSON ({detail})", headers)
    return error_response(status_code, _CODES_BY_STATUS.get(status_code, "invalid_request"), detail, headers)


def _too_many_requests(headers: dict[str, str]) -> Response[ErrorBody]:
    """Litestar's rate limiter says when the window resets (`RateLimit-Reset`); clients read `Retry-After`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    reset = lowered.get("ratelimit-reset", "")
    retry_after = str(max(1, int(reset))) if reset.isdigit() else "60"
    limit = lowered.get("ratelimit-limit", "")
    message = f"rate limit reached{f' ({limit} requests per minute)' if limit else ''}; retry in {retry_after} seconds"
    return error_response(429, "too_many_requests", message, {**headers, "Retry-After": retry_after})


def _api_error_handler(request: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return error_response(exc.status_code, exc.code, exc.message, exc.headers)


def _internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("http.unhandled_error", method=request.method, path=request.url.path)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "the gateway failed; try again later")


def documented(descriptions: Mapping[int, str]) -> dict[int, ResponseSpec]:
    """OpenAPI entries for error responses, each with the error shape: `{404: "`store_not_found`"}`."""
    return {status: ResponseSpec(ErrorBody, description=text) for status, text in descriptions.items()}


def exception_handlers(*, retry_after_seconds: int) -> ExceptionHandlersMap:
    """The app's handlers; `retry_after_seconds` goes into every 503's `Retry-After`."""

    def unavailable(request: Request[Any, Any, Any], exc: DependencyUnavailable) -> Response[ErrorBody]:
        code, what = next(
            (value for kind, value in _UNAVAILABLE.items() if isinstance(exc, kind)),
            ("service_unavailable", "a backing service is unavailable"),
        )
        log.warning("http.dependency_unavailable", code=code, reason=str(exc), path=request.url.path)
        message = f"{what}; retry in {retry_after_seconds} seconds"
        return error_response(HTTP_503_SERVICE_UNAVAILABLE, code, message, {"Retry-After": str(retry_after_seconds)})

    return {
        ApiError: _api_error_handler,
        DependencyUnavailable: unavailable,
        HTTPException: _http_exception_handler,
        Exception: _internal_error_handler,
    }
