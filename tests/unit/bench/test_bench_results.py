"""`make bench`'s table: ratios in both directions, the targets, the results file and the regression guard
that reads the last committed one back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.load import percentile
from bench.table import Row, last_committed, markdown_table, ratios_of, regressions, results_file


def rate(name: str, value: float, baseline: float, target: float | None = None) -> Row:
    return Row("http", name, value, "hello", baseline, target=target)


def test_a_rate_is_good_above_its_baseline_and_a_duration_below_it() -> None:
    assert rate("health", 700, 1000).ratio == pytest.approx(0.7)
    assert Row("provisioning", "20 stores", 30.0, "raw Helm", 36.0, unit="s").ratio == pytest.approx(1.2)
    assert Row("streams", "RSS", 140.0, "before", 100.0, unit="MiB").ratio == pytest.approx(100 / 140)


def test_targets_are_met_or_missed_by_the_ratio() -> None:
    assert rate("health", 700, 1000, target=0.7).met is True
    assert rate("health", 699, 1000, target=0.7).met is False
    assert rate("list", 1, 1000).met is None
    table = markdown_table([rate("health", 699, 1000, target=0.7), rate("list", 500, 1000)], {})
    assert "**missed**" in table and "≥ 0.7x" in table


def test_a_ratio_more_than_a_fifth_below_the_last_one_is_a_regression() -> None:
    rows = [rate("health", 790, 1000), rate("store", 810, 1000), rate("new", 1, 1000)]
    previous = {"http: health": 1.0, "http: store": 1.0}
    assert regressions(rows, previous) == ["http: health: ratio 0.79x, was 1.00x"]
    table = markdown_table(rows, previous)
    assert "-21% **REGRESSION**" in table and "-19%" in table and "| new |" in table


def test_the_results_file_carries_its_ratios_for_the_next_run() -> None:
    rows = [rate("health", 700, 1000), Row("provisioning", "20 stores", 30.0, "raw Helm", 36.0, unit="s")]
    text = results_file(rows, {}, machine="- machine: test", compared_with="", notes="")
    assert text.startswith("# `make bench` results\n\n- machine: test")
    assert ratios_of(text) == {"http: health": 0.7, "provisioning: 20 stores": pytest.approx(1.2)}


def test_the_guard_reads_the_newest_results_file_committed_not_the_working_tree(tmp_path: Path) -> None:
    results = Path(__file__).resolve().parents[3] / "bench" / "results"
    folder = tmp_path / results.relative_to(results.parents[1])
    folder.mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    for day, value in (("2026-01-01", 500), ("2026-02-01", 800)):
        text = results_file([rate("health", value, 1000)], {}, machine="", compared_with="", notes="")
        (folder / f"{day}.md").write_text(text)
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "results")
    (folder / "2026-03-01.md").write_text(
        results_file([rate("health", 1, 1000)], {}, machine="", compared_with="", notes="")
    )
    name, ratios = last_committed(tmp_path)
    assert name == "bench/results/2026-02-01.md"
    assert ratios == {"http: health": 0.8}


def test_percentiles_pick_from_the_sorted_values() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.99) == 100.0
