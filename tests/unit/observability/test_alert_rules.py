"""The alerting rules are valid Prometheus rules (promtool, from Debian's `prometheus` package that
`make deps` installs), and every alert says what to do: a runbook line and a link to its section."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.observability_expressions import ALERTS, ROOT, alert_rules, measured_side

WANTED = {
    "ProvisioningStuck",
    "ProvisioningTimeouts",
    "ProjectionLag",
    "RedeliveryStorm",
    "NatsDown",
    "WebhookMessagesExhausted",
    "GatewayErrorRate",
    "ServiceDown",
}


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run `make deps` (it installs Debian's prometheus package)")
    files = sorted(str(path) for path in ALERTS.glob("*.yml"))
    assert files
    result = subprocess.run([promtool, "check", "rules", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: a rule with a syntax error is refused."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run `make deps`")
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(rate(x[5m]) > \n")
    result = subprocess.run([promtool, "check", "rules", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0


def test_the_alerts_the_platform_needs_are_there() -> None:
    assert {rule["alert"] for rule in alert_rules()} == WANTED


def test_every_alert_has_a_runbook_line_and_section() -> None:
    doc = (ROOT / "docs" / "observability.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in doc.splitlines()
        if line.startswith("#")
    }
    for rule in alert_rules():
        annotations = rule["annotations"]
        assert annotations["summary"] and len(annotations["runbook"]) > 40, rule["alert"]
        path, _, anchor = annotations["runbook_url"].partition("#")
        assert path == "docs/observability.md" and anchor == rule["alert"].lower(), rule["alert"]
        assert anchor in anchors, f"docs/observability.md has no section for {rule['alert']}"


def test_the_measured_side_of_a_condition() -> None:
    assert measured_side("max(storeplane_projection_lag_events) > 100") == "max(storeplane_projection_lag_events)"
    assert measured_side('up{job=~"a|b"} == 0') == 'up{job=~"a|b"}'
    assert measured_side("(a or vector(0)) / sum(b) > 0.05") == "(a or vector(0)) / sum(b)"
    assert measured_side("rate(x[5m])") == "rate(x[5m])"
