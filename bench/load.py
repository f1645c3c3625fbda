"""HTTP load from outside: wrk, pinned with `taskset` to a core of its own, its figures read from a Lua
`done` hook (exact percentiles from wrk's own histogram, not the rounded text it prints)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# wrk's `done` hook prints one JSON line: requests, seconds, p50/p99 (microseconds) and the failures.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nBENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"bad_status": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    bad_status: int
    socket_errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Cores:
    """Which CPU the server runs on and which the load generator: apart when the machine has two or more."""

    server: frozenset[int]
    client: frozenset[int]

    @classmethod
    def split(cls) -> Cores:
        available = sorted(os.sched_getaffinity(0))
        if len(available) < 2:
            return cls(frozenset(available), frozenset(available))
        return cls(frozenset(available[:-1]), frozenset(available[-1:]))

    def pin_server(self, pid: int) -> None:
        os.sched_setaffinity(pid, self.server)

    def describe(self) -> str:
        if self.server == self.client:
            return f"server and wrk share CPU {sorted(self.server)} (one core only)"
        return f"server on CPU {_cpus(self.server)}, wrk on CPU {_cpus(self.client)} (taskset)"


def _cpus(cores: frozenset[int]) -> str:
    return ",".join(str(core) for core in sorted(cores))


def wrk(
    url: str,
    cores: Cores,
    *,
    connections: int = 16,
    seconds: float = 8,
    headers: dict[str, str] | None = None,
    request_lua: str = "",
) -> Load:
    """Run wrk (one thread) against `url`; `request_lua` may define wrk's `request()` (say, a POST with a
    fresh body each time)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(request_lua + _DONE)
    try:
        command = ["taskset", "-c", _cpus(cores.client), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
        command += ["--timeout", "10s", "-s", script.name]
        for name, value in (headers or {}).items():
            command += ["-H", f"{name}: {value}"]
        result = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True)
    finally:
        Path(script.name).unlink()
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    figures = json.loads(line.removeprefix("BENCH "))
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        bad_status=figures["bad_status"],
        socket_errors=figures["socket_errors"],
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
