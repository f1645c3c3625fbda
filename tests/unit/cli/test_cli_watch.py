"""A wait shown step by step: each event a line with its mark, its words and how long it took; the
wait ends at the goal's first event (ready or failed), and a stream that ends before is an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storeplane_cli.errors import CliError
from storeplane_cli.stream import StreamEvent
from storeplane_cli.watch import DELETED, PROVISIONED, duration, label, line, until

START = datetime(2026, 1, 1, tzinfo=UTC)


def event(sequence: int, kind: str, seconds: float = 0.0, **data: Any) -> StreamEvent:
    entry = {
        "event_id": f"e{sequence}",
        "type": kind,
        "occurred_at": (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z"),
        "sequence": sequence,
        "data": data,
        "store_id": "s1",
    }
    return StreamEvent.parse(str(sequence), json.dumps(entry))


def test_a_stream_message_parses_into_its_sequence_type_time_and_data() -> None:
    parsed = event(7, "StepRetrying", 1.5, step="readiness", attempt=2)
    assert (parsed.sequence, parsed.type, parsed.store_id) == (7, "StepRetrying", "s1")
    assert parsed.occurred_at == START + timedelta(seconds=1.5)
    assert parsed.data == {"step": "readiness", "attempt": 2}
    assert json.loads(parsed.raw)["event_id"] == "e7"


def test_lines_say_what_happened_and_how_long_it_took() -> None:
    assert line(event(1, "StoreRequested"), None) == "✓ requested"
    assert line(event(2, "NamespaceCreated", 0.42), START) == f"✓ {'namespace created':<40} 0.4s"
    failed = event(3, "ProvisioningFailed", 61, step="readiness", reason="quota_exceeded", message="m")
    assert line(failed, START).startswith("✗ failed at readiness: quota_exceeded")
    assert line(failed, START).endswith("1m01s")
    assert label(event(4, "StepRetrying", step="chart", attempt=2, max_attempts=5, reason="x")).startswith(
        "chart will be retried (attempt 2/5)"
    )
    assert label(event(5, "SomethingNew")) == "something new"
    findings = [
        {"kind": "pod_waiting", "object": f"Pod/web-{n}", "reason": "ImagePullBackOff", "message": "m"}
        for n in range(4)
    ]
    stalled = event(
        6, "StepStalled", step="readiness", running_for_seconds=185, threshold_seconds=60, findings=findings
    )
    assert line(stalled, None) == (
        "! readiness still running after 3m05s (stalled past 1m00s); Pod/web-0 ImagePullBackOff, Pod/web-1 "
        "ImagePullBackOff, Pod/web-2 ImagePullBackOff and 1 more"
    )
    assert label(event(7, "StepStalled", step="chart", running_for_seconds=70.5, threshold_seconds=60)) == (
        "chart still running after 1m10s (stalled past 1m00s)"
    )
    assert duration(3.04) == "3.0s"


def test_the_wait_ends_at_the_goal_and_prints_one_line_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    events = [
        event(1, "StoreRequested"),
        event(2, "ProvisioningStarted", 1),
        event(3, "StoreReady", 3),
        event(4, "CredentialsRevealed", 4),
    ]
    final = until(iter(events), PROVISIONED)
    assert final.sequence == 3
    out = capsys.readouterr().out.splitlines()
    assert [text.split()[0] for text in out] == ["✓", "✓", "✓"]
    assert out[-1].startswith("✓ ready") and out[-1].endswith("2.0s")
    assert "\x1b" not in "".join(out)


def test_a_failure_ends_the_wait_too_and_quiet_waits_print_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    events = [event(1, "StoreDeletionRequested"), event(2, "DeletionFailed", 2, step="x", reason="y")]
    assert until(iter(events), DELETED, quiet=True).type == "DeletionFailed"
    assert capsys.readouterr().out == ""


def test_a_stream_that_ends_before_the_goal_is_an_error() -> None:
    with pytest.raises(CliError):
        until(iter([event(1, "StoreRequested")]), PROVISIONED)
