"""A store's provisioning trace as the API shows it: its spans, from every service, in start order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

AttributeValue = str | int | float | bool


@dataclass(frozen=True)
class TraceSpan:
    """One span: which service did what, when, for how long, how it ended, and its key attributes."""

    span_id: str
    parent_id: str | None
    service: str
    name: str
    start: datetime
    duration_ms: float
    status: str  # "ok", "error" or "unset" (OpenTelemetry's status codes)
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreTrace:
    """The trace of a store's latest provisioning (its request, or its latest retry), and earlier ones' ids."""

    trace_id: str
    spans: list[TraceSpan]
    earlier_trace_ids: list[str] = field(default_factory=list)
