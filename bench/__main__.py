"""`make bench`: Storeplane's speed, each figure beside a baseline measured in the same run.

Sets up what it measures on its own loopback ports (NATS, Postgres, the services; the local cluster
for the provisioning rows), prints the table, writes it to bench/results/<date>.md with the machine's
description, and flags every ratio more than 20% below the last committed results file's.
Not part of `make test`; docs/performance.md says what each row measures.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import bus_rows, http_rows, machine, provisioning, streams
from bench.load import Cores
from bench.platform import servers, services
from bench.table import RESULTS, Row, last_committed, markdown_table, regressions, results_file

ROOT = Path(__file__).resolve().parent.parent


def measure(folder: Path, cores: Cores, only: set[str], workers: list[int]) -> tuple[list[Row], list[str]]:
    """Each group on servers of its own (a provisioner started later must not find another group's stores).
    A group that fails is reported and the others still run: the rows measured, and what failed."""
    rows: list[Row] = []
    failed: list[str] = []

    def group(name: str, measured: Callable[[], list[Row]]) -> None:
        if name not in only:
            return
        started = time.monotonic()
        try:
            for row in measured():
                rows.append(row)
                print(f"bench: {row.key}: {row.value:,.1f} {row.unit}, {row.baseline_name} {row.baseline:,.1f}",
                      file=sys.stderr, flush=True)  # fmt: skip
        except Exception as exc:  # the other groups are still worth measuring
            failed.append(f"{name}: {exc!r}"[:600])
            traceback.print_exc()
        print(f"bench: {name} measured in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

    def http() -> list[Row]:
        with (
            http_rows.hello_server(folder, cores) as hello,
            servers(folder / "http") as running,
            services(running, ["status", "gateway"]) as platform,
        ):
            return http_rows.gateway_rows(platform, cores, hello)

    def bus() -> list[Row]:
        raw_publish, raw_pull = bus_rows.raw_nats(folder)
        posts = [row for row in rows if row.name.startswith("POST /stores (")]
        measured = [bus_rows.publish_row(posts[0].value, raw_publish)] if posts else []
        with servers(folder / "bus") as running:
            measured.append(bus_rows.consumer_row(running, raw_pull))
            measured.append(bus_rows.projection_row(running))
        with servers(folder / "started") as running:
            measured.append(provisioning.started_row(running))
        return measured

    def scaling() -> list[Row]:
        with servers(folder / "provisioning") as running:
            return provisioning.scaling_rows(running, workers)

    def event_streams() -> list[Row]:
        (folder / "streams").mkdir()
        return streams.rows(folder / "streams")

    group("http", http)
    group("bus", bus)
    group("provisioning", scaling)
    group("streams", event_streams)
    return rows, failed


GROUPS = ("http", "bus", "provisioning", "streams")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", action="append", choices=GROUPS, help="measure only these row groups")
    parser.add_argument("--workers", type=int, action="append", help="provisioning rows: worker counts (1, 4, 8)")
    parser.add_argument("--no-write", action="store_true", help="print the table without writing a results file")
    arguments = parser.parse_args()
    cores = Cores.split()
    folder = Path(tempfile.mkdtemp(prefix="storeplane-bench-"))
    folder.chmod(0o755)  # the Postgres server runs as the `postgres` user when we are root
    started = time.monotonic()
    try:
        rows, failed = measure(folder, cores, set(arguments.only or GROUPS), arguments.workers or [1, 4, 8])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    compared_with, previous = last_committed(ROOT)
    print(markdown_table(rows, previous))
    notes = "\n".join(f"- {row.key}: {row.note}" for row in rows if row.note)
    notes += "".join(f"\n- NOT MEASURED, {failure}" for failure in failed)
    print(notes)
    elapsed = time.monotonic() - started
    print(f"\nmeasured in {elapsed / 60:.1f} min")
    if not arguments.no_write:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d}.md"
        description = machine.description(cores.describe(), http_rows.server_description())
        path.write_text(results_file(rows, previous, machine=description, compared_with=compared_with, notes=notes))
        print(f"written to {path.relative_to(ROOT)}")
    if found := regressions(rows, previous):
        print("regressions against " + compared_with + ":\n  " + "\n  ".join(found), file=sys.stderr)
    return 1 if found or failed else 0


if __name__ == "__main__":
    sys.exit(main())
