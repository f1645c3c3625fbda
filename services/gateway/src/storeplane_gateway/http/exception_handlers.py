"""The app's exception handlers: every failure becomes an answer in the error shape (`errors.py`).

- A refusal of the rules (a `Refused` from `storeplane_gateway.domain.errors`) and a backing
  service that is down (`DependencyUnavailable`, a 503 with `Retry-After`) are answered as
  `error_answers.py`, the one place that maps domain errors to HTTP answers, says.
- An `ApiError` a handler or guard raised is answered as it says; Litestar's own errors
  (validation, 401, 404, 405, 429, ...) get a code and a message that says what to fix;
  anything else is a 500.
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from storeplane_gateway.domain.errors import DependencyUnavailable, Refused
from storeplane_gateway.http.error_answers import refusal_answer, unavailable_answer
from storeplane_gateway.http.errors import ApiError, ErrorBody, error_response

log = structlog.get_logger(__name__)

LOGIN_HINT = "POST /api/v1/auth/login (or /api/v1/auth/register) returns a token"

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


def _too_large_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    limit = request.route_handler.resolve_request_max_body_size()
    message = f"the body is larger than the limit of {limit} bytes; send a smaller one"
    return error_response(413, "body_too_large", message, exc.headers)


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


def _refused_handler(request: Request[Any, Any, Any], exc: Refused) -> Response[ErrorBody]:
    return _api_error_handler(request, refusal_answer(exc))


def _internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("http.unhandled_error", method=request.method, path=request.url.path)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "the gateway failed; try again later")


def exception_handlers(*, retry_after_seconds: int) -> ExceptionHandlersMap:
    """The app's handlers; `retry_after_seconds` goes into every 503's `Retry-After`."""

    def unavailable(request: Request[Any, Any, Any], exc: DependencyUnavailable) -> Response[ErrorBody]:
        answer = unavailable_answer(exc, retry_after_seconds=retry_after_seconds)
        log.warning("http.dependency_unavailable", code=answer.code, reason=str(exc), path=request.url.path)
        return _api_error_handler(request, answer)

    return {
        Refused: _refused_handler,
        ApiError: _api_error_handler,
        DependencyUnavailable: unavailable,
        HTTPException: _http_exception_handler,
        413: _too_large_handler,
        Exception: _internal_error_handler,
    }
