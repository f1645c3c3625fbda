"""Watching a store reach a goal (ready, deleted) from its event stream, step by step.

Each step is shown as it completes, with a tick and how long it took (the time since the event
before it). On a terminal the list is live, with a spinner for the step under way; otherwise one
plain line per event, flushed at once, for logs and scripts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from storeplane_cli.errors import CliError
from storeplane_cli.output import console, is_terminal
from storeplane_cli.stream import StreamEvent


@dataclass(frozen=True)
class Goal:
    """The events that end a wait: in `done` it succeeded, in `failed` it did not."""

    done: frozenset[str]
    failed: frozenset[str]


PROVISIONED = Goal(done=frozenset({"StoreReady"}), failed=frozenset({"ProvisioningFailed"}))
DELETED = Goal(done=frozenset({"StoreDeleted"}), failed=frozenset({"DeletionFailed"}))

_LABELS = {
    "StoreRequested": "requested",
    "ProvisioningStarted": "provisioning started",
    "NamespaceCreated": "namespace created",
    "QuotaApplied": "resource quota applied",
    "LimitsApplied": "limit range applied",
    "NetworkPolicyApplied": "network policy applied",
    "CredentialsCreated": "admin credentials created",
    "ChartInstalled": "chart installed",
    "StoreReady": "ready",
    "StoreDeletionRequested": "deletion requested",
    "ReleaseUninstalled": "release uninstalled",
    "StoreDeleted": "deleted",
}
_FAILURES = frozenset({"ProvisioningFailed", "DeletionFailed"})
_WARNINGS = frozenset({"StepRetrying", "StepStalled", "StoreDegraded"})
# A stalled step's findings shown on its line; the timeline (-o json) has them all.
_FINDINGS_SHOWN = 3


def label(event: StreamEvent) -> str:
    """What happened, in words: `namespace created`, `failed at readiness: quota_exceeded`."""
    data = event.data
    if event.type in _FAILURES:
        return f"failed at {data.get('step', '?')}: {data.get('reason', '?')}"
    if event.type == "StepRetrying":
        attempt = f"{data.get('attempt', '?')}/{data.get('max_attempts', '?')}"
        return f"{data.get('step', '?')} will be retried (attempt {attempt}): {data.get('reason', '?')}"
    if event.type == "StepStalled":
        return _stalled(data)
    return _LABELS.get(event.type) or re.sub(r"(?<!^)(?=[A-Z])", " ", event.type).lower()


def _stalled(data: dict[str, Any]) -> str:
    """`readiness still running after 3m05s (stalled past 1m00s); PersistentVolumeClaim/data-0 ProvisioningFailed`."""
    running = duration(float(data.get("running_for_seconds", 0)))
    limit = duration(float(data.get("threshold_seconds", 0)))
    text = f"{data.get('step', '?')} still running after {running} (stalled past {limit})"
    findings = [f for f in data.get("findings", []) if isinstance(f, dict)]
    named = [f"{f.get('object', '?')} {f.get('reason', '?')}" for f in findings[:_FINDINGS_SHOWN]]
    more = f" and {len(findings) - _FINDINGS_SHOWN} more" if len(findings) > _FINDINGS_SHOWN else ""
    return f"{text}; {', '.join(named)}{more}" if named else text


def mark(event: StreamEvent) -> str:
    if event.type in _FAILURES:
        return "✗"
    return "!" if event.type in _WARNINGS else "✓"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def line(event: StreamEvent, previous: datetime | None) -> str:
    took = "" if previous is None else duration(max((event.occurred_at - previous).total_seconds(), 0.0))
    return f"{mark(event)} {label(event):<40} {took}".rstrip()


def until(events: Iterable[StreamEvent], goal: Goal, *, quiet: bool = False) -> StreamEvent:
    """Show `events` (unless `quiet`) until one ends the wait, and return it."""
    shown: list[str] = []
    previous: datetime | None = None
    with _display(quiet) as show:
        for event in events:
            shown.append(line(event, previous))
            previous = event.occurred_at
            show(shown, event.type in goal.done | goal.failed)
            if event.type in goal.done | goal.failed:
                return event
    raise CliError("The event stream ended before the store got there.")


class _display:
    """A live list (terminal) or printed lines (anything else); `show(lines, finished)` updates it."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __enter__(self) -> _display:
        self.printed = 0
        terminal = is_terminal() and not self.quiet
        self.live = Live(console=console(), refresh_per_second=8, transient=False) if terminal else None
        if self.live:
            self.live.__enter__()
            self.live.update(Spinner("dots", "waiting for the first event"))
        return self

    def __call__(self, lines: list[str], finished: bool) -> None:
        if self.quiet:
            return
        if self.live is None:
            for text in lines[self.printed :]:
                print(text, flush=True)
            self.printed = len(lines)
            return
        parts: list[Text | Spinner] = [Text(text) for text in lines]
        if not finished:
            parts.append(Spinner("dots", "working"))
        self.live.update(Group(*parts))

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.live.__exit__(None, None, None)
