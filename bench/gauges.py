"""What the tenant simulation (`bench/tenants.py`) reads off the running platform while it grows: Prometheus
text from the services' metrics ports, the kube-apiserver's request counter, a process's resident memory,
and samplers that keep the largest and the typical values of a figure while stores are ordered."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench.load import percentile


def scrape(url: str) -> dict[str, float]:
    """Every sample of a Prometheus text page, as `name{labels}` (labels sorted) to value."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return samples(text)


def samples(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = float(sample.value)
    return found


def total(figures: dict[str, float], name: str, having: str = "") -> float:
    """The sum of the samples of metric `name` (whose labels include `having`, if given)."""
    return sum(v for key, v in figures.items() if key.startswith(name + "{") and having in key)


def apiserver_requests(kubectl: list[str]) -> float:
    """The kube-apiserver's `apiserver_request_total`, summed over every label: every request it served."""
    page = subprocess.run([*kubectl, "get", "--raw", "/metrics"], capture_output=True, text=True, check=True)
    return total(samples(page.stdout), "apiserver_request_total")


def rss_mib(pid: int) -> float:
    """The resident memory of process `pid`, in MiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Sampled:
    """Values of one figure sampled over time."""

    values: list[float] = field(default_factory=list)

    @property
    def peak(self) -> float:
        return max(self.values, default=0.0)

    def p(self, fraction: float) -> float:
        return percentile(self.values, fraction) if self.values else 0.0


async def sample_every(seconds: float, read: Callable[[], Awaitable[float]], into: Sampled) -> None:
    """Append `read()` to `into` every `seconds` until cancelled; a read that fails is skipped."""
    while True:
        started = time.monotonic()
        with contextlib.suppress(Exception):  # a sample missed is a sample fewer, not a failed run
            into.values.append(await read())
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
