"""Every PromQL expression Storeplane ships: each dashboard panel's (infra/dashboards/) and each alert's
(infra/alerts/), for the tests that validate them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "infra" / "dashboards"
ALERTS = ROOT / "infra" / "alerts"
# An alert's condition: the measured side, a comparison, a threshold.
_CONDITION = re.compile(r"(?P<measured>.*\S)\s*(?:[<>]=?|==|!=)\s*[-+0-9.e]+\s*", re.DOTALL)


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def dashboard_expressions() -> list[tuple[str, str]]:
    """(dashboard/panel, expression) for every query of every panel."""
    found = []
    for name, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                found.append((f"{name}/{panel['title']}", target["expr"]))
    return found


def alert_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in sorted(ALERTS.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(group["rules"])
    return rules


def measured_side(expr: str) -> str:
    """What an alert's condition compares with its threshold (the expression itself when it compares nothing):
    that side returns data whenever the metrics exist, firing or not."""
    match = _CONDITION.fullmatch(expr.strip())
    return match.group("measured") if match else expr
