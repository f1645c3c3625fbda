"""The audit trail's one record: a command someone gave the platform, and how it ended.

Every command the gateway takes (register, log in, create or delete a store, read its
credentials, make or revoke a token, log out, change a quota) becomes one `CommandAudited`
on the AUDIT stream, refused and failed ones included. It says who (actor), what (action
and target), when, from where (client address) and the outcome. It never holds a password,
a token or any other secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias

import msgspec

from storeplane_contracts.events import new_id, now

# succeeded: 2xx/3xx; refused: the client's request was turned down (4xx); failed: 5xx.
AuditOutcome: TypeAlias = Literal["succeeded", "refused", "failed"]
# How the actor proved who they are: a login session (JWT), an API token, or not at all.
Credential: TypeAlias = Literal["session", "api_token", "none"]


class CommandAudited(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=True):
    """A command given through the API, with who gave it, from where, and its outcome."""

    action: str
    outcome: AuditOutcome
    status_code: int
    client_address: str
    actor_id: str = ""  # empty when nobody was authenticated (a failed login, a refused token)
    actor_email: str = ""
    actor_role: str = ""
    credential: Credential = "none"
    target: str = ""  # what the command was about: a store id, a token id, a user id
    error_code: str = ""  # the API's error code when refused or failed
    method: str = ""
    path: str = ""
    trace_id: str = ""
    event_id: str = msgspec.field(default_factory=new_id)
    occurred_at: datetime = msgspec.field(default_factory=now)
    version: int = 1


_decoder = msgspec.json.Decoder(CommandAudited)
_encoder = msgspec.json.Encoder()


def encode(entry: CommandAudited) -> bytes:
    return _encoder.encode(entry)


def decode(data: bytes) -> CommandAudited:
    return _decoder.decode(data)
