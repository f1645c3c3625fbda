"""Request bodies: JSON only, decoded strictly, and every malformed one refused with a 4xx that says why.

Litestar converts a body to its struct with msgspec's lax rules, which would take `"9"` for 9 or
`"true"` for true, and lets a decoding failure it does not expect (invalid UTF-8 inside a string)
escape as a 500 whose traceback holds the body. So the app's `before_request` hook (`strict_body`)
refuses query parameters the route does not take (400 `invalid_request`), and decodes the body of
every route that takes a struct first: a body sent as anything but JSON is a
415 `unsupported_media_type`; bytes that are not UTF-8, JSON that is malformed or truncated, a
missing or unknown field, a wrong JSON type, a string over or under its bounds (`msgspec.Meta` on
the struct, the same bounds the OpenAPI schema shows) or holding a NUL character are a 400
`invalid_body` naming the field. No message repeats the body's content (it may be a password).
With `forbid_unknown_fields` on every request struct, a client cannot set a field the API does not
offer (no mass assignment).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.types.internal_types import PathParameterDefinition

from storeplane_gateway.http.errors import ApiError

JSON_MEDIA_TYPE = "application/json"
# A string the API takes may hold anything but NUL (`strict_body` refuses it), as a schema pattern.
NO_NUL = "^[^\\x00]*$"

StructT = TypeVar("StructT", bound=msgspec.Struct)

_decoders: dict[type[msgspec.Struct], msgspec.json.Decoder[Any]] = {}
_AT = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$")


async def strict_request(request: Request[Any, Any, Any]) -> None:
    """The app's `before_request` hook: only the query parameters the route takes, and a strict body."""
    _known_query(request)
    await strict_body(request)


# Per route handler, held by the handler itself rather than its id: a handler of a later app (the
# tests make many) may be given a freed id, and would be answered with another route's names.
_query_names: dict[Any, frozenset[str]] = {}


def _known_query(request: Request[Any, Any, Any]) -> None:
    """A query parameter the route does not take is a 400 (as an unknown body field is), not ignored."""
    handler = request.route_handler
    names = _query_names.get(handler)
    if names is None:
        # Only the path parameters' names matter here: they are not query parameters.
        path = {name: PathParameterDefinition(name, name, str, None) for name in request.path_params}
        model = handler.create_kwargs_model(path_parameters=path)
        names = _query_names[handler] = frozenset(p.field_alias for p in model.expected_query_params)
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        takes = f"it takes {', '.join(sorted(names))}" if names else "it takes none"
        raise ApiError(400, "invalid_request", f"unknown query parameter `{unknown[0]}` on this route; {takes}")


async def strict_body(request: Request[Any, Any, Any]) -> None:
    """The JSON body decodes strictly into the handler's `data` struct, or 4xx."""
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    body_type = parameter.annotation if parameter is not None else None
    if not (isinstance(body_type, type) and issubclass(body_type, msgspec.Struct)):
        return
    await decoded_body(request, body_type)  # None (no body): Litestar itself says that a body is required


async def decoded_body(request: Request[Any, Any, Any], body_type: type[StructT]) -> StructT | None:
    """The request's JSON body decoded strictly into `body_type`, None if there is none, or 4xx.
    For a handler that reads its body itself (one that may also come without any)."""
    body = await request.body()
    if not body.strip():
        return None
    _require_json(request)
    decoded = _decode(body_type, body)
    if (path := _nul_at(msgspec.to_builtins(decoded), "")) is not None:
        # No text the API keeps may hold one (Postgres text cannot), and no legitimate value needs one.
        raise _invalid_body(path, "must not contain the NUL character (\\u0000)")
    return decoded


def _require_json(request: Request[Any, Any, Any]) -> None:
    media_type = request.content_type[0].lower()
    if media_type != JSON_MEDIA_TYPE:
        sent = f"`{media_type}`" if media_type else "none"
        raise ApiError(
            415,
            "unsupported_media_type",
            f"the body must be JSON sent with `Content-Type: {JSON_MEDIA_TYPE}` (the request's Content-Type: {sent})",
        )


def _decode(body_type: type[StructT], body: bytes) -> StructT:
    decoder = _decoders.get(body_type)
    if decoder is None:
        decoder = _decoders[body_type] = msgspec.json.Decoder(body_type, strict=True)
    try:
        decoded: StructT = decoder.decode(body)
    except UnicodeDecodeError:  # msgspec lets it through from inside a string
        raise _invalid_body(
            "", "the body is not valid UTF-8 (a string holds other bytes); send JSON encoded as UTF-8"
        ) from None
    except msgspec.ValidationError as exc:
        if "got `float`" in str(exc) and (whole := _whole_numbers_as_ints(body)) is not None:
            return _decode(body_type, whole)  # JSON Schema counts 246.0 as an integer, and so do we
        match = _AT.match(str(exc))
        message, path = (match["message"], match["path"].lstrip(".")) if match else (str(exc), "")
        raise _invalid_body(path, message) from None
    except msgspec.DecodeError as exc:
        raise _invalid_body("", f"the body is not valid JSON ({exc})") from None
    return decoded


def _whole_numbers_as_ints(body: bytes) -> bytes | None:
    """The body with every number without a fraction (`246.0`) written as an integer; None if there is none."""
    found: list[float] = []

    def whole(value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            found.append(value)
            return int(value)
        if isinstance(value, dict):
            return {key: whole(item) for key, item in value.items()}
        if isinstance(value, list):
            return [whole(item) for item in value]
        return value

    converted = whole(msgspec.json.decode(body))
    return msgspec.json.encode(converted) if found else None


def _invalid_body(path: str, message: str) -> ValidationException:
    return ValidationException(
        "Validation failed", extra=[{"key": path or "data", "message": message, "source": "body"}]
    )


def _nul_at(value: Any, path: str) -> str | None:
    """The path of the first string in `value` holding a NUL character, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        inner = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))
        if (found := _nul_at(item, inner)) is not None:
            return found
    return None
