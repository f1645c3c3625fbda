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
from pathlib import Path

from bench import http_rows, machine
from bench.load import Cores
from bench.platform import servers, services
from bench.table import RESULTS, Row, last_committed, markdown_table, regressions, results_file

ROOT = Path(__file__).resolve().parent.parent


def measure(folder: Path, cores: Cores, only: set[str]) -> list[Row]:
    rows: list[Row] = []
    with servers(folder) as running:
        if "http" in only:
            hello = http_rows.hello_baseline(folder, cores)
            with services(running, ["status", "gateway"]) as platform:
                rows += http_rows.gateway_rows(platform, cores, hello)
    return rows


GROUPS = ("http",)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", action="append", choices=GROUPS, help="measure only these row groups")
    parser.add_argument("--no-write", action="store_true", help="print the table without writing a results file")
    arguments = parser.parse_args()
    cores = Cores.split()
    folder = Path(tempfile.mkdtemp(prefix="storeplane-bench-"))
    folder.chmod(0o755)  # the Postgres server runs as the `postgres` user when we are root
    started = time.monotonic()
    try:
        rows = measure(folder, cores, set(arguments.only or GROUPS))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    compared_with, previous = last_committed(ROOT)
    print(markdown_table(rows, previous))
    notes = "\n".join(f"- {row.key}: {row.note}" for row in rows if row.note)
    print(notes)
    elapsed = time.monotonic() - started
    print(f"\nmeasured in {elapsed / 60:.1f} min")
    if not arguments.no_write:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d}.md"
        description = machine.description(cores.describe(), "uvicorn (h11, asyncio loop)")
        path.write_text(results_file(rows, previous, machine=description, compared_with=compared_with, notes=notes))
        print(f"written to {path.relative_to(ROOT)}")
    if found := regressions(rows, previous):
        print("regressions against " + compared_with + ":\n  " + "\n  ".join(found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
