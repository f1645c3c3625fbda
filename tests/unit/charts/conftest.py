"""The helm binary for chart tests: the local cluster's cached toolchain (built once)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="session")
def helm() -> Path:
    """The helm binary of the local cluster's cached toolchain."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "infra" / "cluster" / "cluster.py"), "bin"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"cluster.py bin failed: {result.stderr}"
    binary = Path(result.stdout.strip().splitlines()[-1]) / "helm"
    assert binary.is_file(), f"no helm in {binary.parent}"
    return binary
