"""Jaeger's query API (`GET /api/traces/{id}`, its JSON form) as the `Traces` port.

Jaeger holds each span with its service (the `process`), its parent (a CHILD_OF reference), a start
and a duration in microseconds, and its attributes as tags; OpenTelemetry's status is the tag
`otel.status_code`. Only the key attributes are passed on: what a user reads to see which
Kubernetes objects, Helm release, subject or webhook a span was about.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from storeplane_gateway.domain.errors import TracesUnavailable
from storeplane_gateway.domain.traces import AttributeValue, TraceSpan

KEY_ATTRIBUTE_PREFIXES = (
    "k8s.",
    "helm.",
    "storeplane.",
    "webhook.",
    "http.",
    "url.",
    "server.",
    "messaging.",
    "error.",
)
_STATUS = {"OK": "ok", "ERROR": "error"}


def _attributes(tags: list[dict[str, Any]]) -> dict[str, AttributeValue]:
    kept: dict[str, AttributeValue] = {}
    for tag in tags:
        key, value = str(tag.get("key", "")), tag.get("value")
        if key.startswith(KEY_ATTRIBUTE_PREFIXES) and isinstance(value, str | int | float | bool):
            kept[key] = value
    return kept


def _status(tags: list[dict[str, Any]]) -> str:
    by_key = {tag.get("key"): tag.get("value") for tag in tags}
    if by_key.get("error") is True:
        return "error"
    return _STATUS.get(str(by_key.get("otel.status_code", "")), "unset")


def span_of(span: dict[str, Any], processes: dict[str, Any]) -> TraceSpan:
    """One span of Jaeger's JSON as the domain's `TraceSpan`."""
    tags = span.get("tags") or []
    parent = next((r["spanID"] for r in span.get("references") or [] if r.get("refType") == "CHILD_OF"), None)
    process = processes.get(span.get("processID", ""), {})
    return TraceSpan(
        span_id=span["spanID"],
        parent_id=parent,
        service=str(process.get("serviceName", "")),
        name=str(span.get("operationName", "")),
        start=datetime.fromtimestamp(int(span["startTime"]) / 1_000_000, UTC),
        duration_ms=int(span.get("duration", 0)) / 1000,
        status=_status(tags),
        attributes=_attributes(tags),
    )


def spans_of(answer: dict[str, Any]) -> list[TraceSpan]:
    """Every span of Jaeger's answer, oldest first."""
    spans: list[TraceSpan] = []
    for trace in answer.get("data") or []:
        processes = trace.get("processes") or {}
        spans.extend(span_of(span, processes) for span in trace.get("spans") or [])
    return sorted(spans, key=lambda span: (span.start, span.name))


class JaegerTraces:
    """The `Traces` port over Jaeger's query API at `base_url` (http://127.0.0.1:16686)."""

    def __init__(self, base_url: str, *, timeout: float = 5.0) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def spans(self, trace_id: str) -> list[TraceSpan]:
        if not (len(trace_id) == 32 and all(c in "0123456789abcdef" for c in trace_id)):
            return []  # no trace id of ours: nothing to ask
        try:
            answer = await self._client.get(f"/api/traces/{trace_id}")
        except httpx.HTTPError as exc:
            raise TracesUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if answer.status_code == 404:
            return []
        if answer.status_code != 200:
            raise TracesUnavailable(f"Jaeger answered {answer.status_code}")
        try:
            return spans_of(answer.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise TracesUnavailable(f"Jaeger's answer was not understood: {exc!r}") from exc

    async def close(self) -> None:
        await self._client.aclose()
