"""The bodies of the probes: the process is up; each dependency and whether it answers."""

from __future__ import annotations

import msgspec

from storeplane_gateway.http.errors import ErrorDetail


class HealthBody(msgspec.Struct, frozen=True):
    """The process is up."""

    status: str


class ReadyBody(msgspec.Struct, frozen=True):
    """Each dependency and whether it answers ("ok" or what is wrong)."""

    status: str
    checks: dict[str, str]


class NotReadyBody(msgspec.Struct, frozen=True):
    """The error shape, plus each dependency's state."""

    error: ErrorDetail
    checks: dict[str, str]
