"""The figures of `make bench`: each beside its baseline from the same run, their ratio and the issue's
target; the Markdown results file (with the machine it ran on, and the rows as JSON for the next run's
guard); and the regression guard against the last committed results file."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
RESULTS_IN_REPO = "bench/results"
# A ratio this much below the last committed run's is flagged.
REGRESSION = 0.20
LOWER_IS_BETTER = frozenset({"s", "ms", "MiB"})
_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


@dataclass(frozen=True)
class Row:
    """One figure and its baseline. `value` and `baseline` are rates (higher is better) or, in a unit of
    LOWER_IS_BETTER (durations, memory), costs; `ratio` is always "how good next to the baseline"."""

    group: str
    name: str
    value: float
    baseline_name: str
    baseline: float
    unit: str = "req/s"
    p50_ms: float | None = None
    p99_ms: float | None = None
    target: float | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.group}: {self.name}"

    @property
    def ratio(self) -> float:
        if self.unit in LOWER_IS_BETTER:
            return self.baseline / self.value if self.value else 0.0
        return self.value / self.baseline if self.baseline else 0.0

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target


def _figure(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if unit in LOWER_IS_BETTER or value < 100 else f"{value:,.0f} {unit}"


def _ratio(value: float) -> str:
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def markdown_table(rows: list[Row], previous: dict[str, float]) -> str:
    lines = [
        "| group | figure | value | baseline (same run) | ratio | target | p50 ms | p99 ms | vs last |",
        "|---|---|---:|---|---:|---|---:|---:|---|",
    ]
    for row in rows:
        target = "" if row.target is None else f"≥ {round(row.target, 2):g}x " + ("met" if row.met else "**missed**")
        baseline = f"{row.baseline_name}: {_figure(row.baseline, row.unit)}"
        lines.append(
            f"| {row.group} | {row.name} | {_figure(row.value, row.unit)} | {baseline} | {_ratio(row.ratio)} | "
            f"{target} | {_ms(row.p50_ms)} | {_ms(row.p99_ms)} | {_versus(row, previous)} |"
        )
    return "\n".join(lines)


def _versus(row: Row, previous: dict[str, float]) -> str:
    before = previous.get(row.key)
    if before is None or before <= 0:
        return "new"
    change = row.ratio / before - 1
    flag = " **REGRESSION**" if change < -REGRESSION else ""
    return f"{change:+.0%}{flag}"


def regressions(rows: list[Row], previous: dict[str, float]) -> list[str]:
    """The rows whose ratio fell more than REGRESSION below the last committed run's."""
    found = []
    for row in rows:
        before = previous.get(row.key)
        if before and row.ratio < before * (1 - REGRESSION):
            found.append(f"{row.key}: ratio {_ratio(row.ratio)}, was {_ratio(before)}")
    return found


def last_committed(root: Path) -> tuple[str, dict[str, float]]:
    """The newest results file in git's HEAD (not the working tree: a run's own file is not its
    baseline), and its ratios by row key; ("", {}) when there is none."""
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-tree", "--name-only", "HEAD", f"{RESULTS_IN_REPO}/"],
        capture_output=True,
        text=True,
        check=False,
    )
    names = sorted(name for name in listed.stdout.split() if name.endswith(".md"))
    if not names:
        return "", {}
    name = names[-1]
    shown = subprocess.run(["git", "-C", str(root), "show", f"HEAD:{name}"], capture_output=True, text=True)
    return name, ratios_of(shown.stdout)


def ratios_of(text: str) -> dict[str, float]:
    match = _JSON_BLOCK.search(text)
    if not match:
        return {}
    return {f"{row['group']}: {row['name']}": float(row["ratio"]) for row in json.loads(match.group(1))}


def results_file(rows: list[Row], previous: dict[str, float], *, machine: str, compared_with: str, notes: str) -> str:
    data = [{**asdict(row), "ratio": round(row.ratio, 4)} for row in rows]
    against = f"the last committed results, `{compared_with}`" if compared_with else "nothing (first run)"
    return (
        f"# `make bench` results\n\n{machine}\n\n{markdown_table(rows, previous)}\n\n"
        f'"vs last" compares each ratio with {against}; a drop of more than {REGRESSION:.0%} is a regression.\n\n'
        f"{notes}\n\n```json\n{json.dumps(data, indent=1)}\n```\n"
    )
