"""Every command given through the API becomes an audit record, whatever its outcome.

A route handler that takes a command says so with `opt={"audit": "<action>"}`. The app's
`before_send` hook sees every response, including those of refusals raised before the handler
ran (401 from authentication, 429 from rate limiting, 400 from validation), so no outcome goes
unrecorded. When the response's last part is about to leave, the hook builds `CommandAudited`
from the request's scope (the caller the authentication middleware set, the client address, the
path parameters) and the response (status, the error code in the error body), and stores it on
the bus before the client gets the end of the answer. Handlers and services add what only they
know with `note()` (services through `notes_for(request)`, the `AuditNotes` port): the account a
login is for, the id of a store just created.

If the bus cannot take the record (NATS is down), the command's answer is not held back: the
record is written to the log instead (`audit.unrecorded`), with the same fields.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from storeplane_contracts.audit import AuditOutcome, CommandAudited, Credential
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.domain.users import User
from storeplane_gateway.http.app_state import adapters_of
from storeplane_gateway.ports import AuditNotes
from storeplane_runtime.telemetry import current_trace_id

log = structlog.get_logger(__name__)

AUDIT = "audit"  # the route handler option naming the action
_STATUS = "storeplane.audit.status"
_BODY = "storeplane.audit.body"
_ACTOR = "storeplane.audit.actor"
_EMAIL = "storeplane.audit.email"
_TARGET = "storeplane.audit.target"
# Error bodies are small; the code is near the start.
_MAX_ERROR_BODY = 4096


class _ErrorCode(msgspec.Struct):
    code: str = ""


class _ErrorBody(msgspec.Struct):
    error: _ErrorCode | None = None


def note(
    connection: ASGIConnection[Any, Any, Any, Any],
    *,
    actor: User | None = None,
    email: str | None = None,
    target: str | None = None,
) -> None:
    """Tell the audit record what the handler knows: the acting user, the email given, the target."""
    state = connection.scope["state"]
    if actor is not None:
        state[_ACTOR] = actor
    if email is not None:
        state[_EMAIL] = email[:254]
    if target is not None:
        state[_TARGET] = target


def notes_for(connection: ASGIConnection[Any, Any, Any, Any]) -> AuditNotes:
    """`note` for this request, as the services take it."""

    def noted(*, actor: User | None = None, email: str | None = None, target: str | None = None) -> None:
        note(connection, actor=actor, email=email, target=target)

    return noted


def _outcome(status: int) -> AuditOutcome:
    if status >= 500:
        return "failed"
    return "refused" if status >= 400 else "succeeded"


def _error_code(body: bytes) -> str:
    try:
        parsed = msgspec.json.decode(body, type=_ErrorBody)
    except msgspec.DecodeError:
        return ""
    return parsed.error.code if parsed.error is not None else ""


def _target(scope: Scope, state: dict[str, Any]) -> str:
    if target := state.get(_TARGET):
        return str(target)
    params = scope.get("path_params") or {}
    return str(next(iter(params.values()), ""))


def target_of(scope: Scope) -> str:
    """What the command acts on, as its audit record says: what the handler noted, else the path's id."""
    return _target(scope, scope["state"])


def audit_entry(scope: Scope, action: str, status: int, error_body: bytes) -> CommandAudited:
    """The audit record of one answered command."""
    state: dict[str, Any] = scope["state"]
    principal = scope.get("user")
    actor_id = actor_email = actor_role = ""
    credential: Credential = "none"
    if isinstance(principal, Principal):
        actor_id, actor_email, actor_role = principal.id, principal.email, principal.role
        credential = "session" if principal.session_id else "api_token"
    elif isinstance(noted := state.get(_ACTOR), User):
        actor_id, actor_email, actor_role = noted.id, noted.email, noted.role
    actor_email = actor_email or state.get(_EMAIL, "")
    client = scope.get("client")
    return CommandAudited(
        action=action,
        outcome=_outcome(status),
        status_code=status,
        client_address=client[0] if client else "",
        actor_id=actor_id,
        actor_email=actor_email,
        actor_role=actor_role,
        credential=credential,
        target=_target(scope, state),
        error_code=_error_code(error_body) if status >= 400 else "",
        method=str(scope.get("method", "")),
        path=scope.get("path", ""),
        trace_id=current_trace_id(),
    )


async def record_command(message: Message, scope: Scope) -> None:
    """The `before_send` hook: collect the status and error body, record the command at the last part."""
    if scope["type"] != ScopeType.HTTP:
        return
    handler = scope.get("route_handler")
    action = handler.opt.get(AUDIT) if handler is not None else None
    if not action:
        return
    state: dict[str, Any] = scope["state"]
    if message["type"] == "http.response.start":
        state[_STATUS] = message["status"]
        return
    if message["type"] != "http.response.body":
        return
    status = int(state.get(_STATUS, 500))
    if status >= 400:
        state[_BODY] = (state.get(_BODY, b"") + message.get("body", b""))[:_MAX_ERROR_BODY]
    if message.get("more_body", False):
        return
    entry = audit_entry(scope, action, status, state.pop(_BODY, b""))
    try:
        await adapters_of(scope["litestar_app"].state).audit.record(entry)
    except Exception as exc:  # the answer goes out regardless; the record goes to the log
        log.warning("audit.unrecorded", reason=repr(exc), **msgspec.to_builtins(entry))


def audit_hook() -> BeforeMessageSendHookHandler:
    return record_command
