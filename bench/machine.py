"""What machine and software a `make bench` run measured on, for its results file."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def _wrk() -> str:
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).split("[")[0].strip()


def description(cores: str, server: str) -> str:
    return "\n".join(
        [
            f"- machine: {_cpu_model()}, {os.cpu_count()} cores, {_memory_gib():.0f} GiB, "
            f"{platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}; litestar {_version('litestar')}, uvicorn {_version('uvicorn')}, "
            f"nats-py {_version('nats-py')}, asyncpg {_version('asyncpg')}",
            f"- HTTP server: {server}",
            f"- load: {_wrk()}, one thread, 16 connections, 8 s a row; {cores}",
        ]
    )
