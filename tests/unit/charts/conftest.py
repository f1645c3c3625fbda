"""The helm binary for chart tests: Helm alone, built once from the Go module proxy into the
local cluster's versioned cache (`cluster.py helm`), without the control plane's binaries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra.cluster import cluster


def run_helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="session")
def helm() -> Path:
    """The pinned Helm (HELM_VERSION in infra/cluster/versions.env)."""
    binary = cluster.helm_binary()
    assert binary.is_file(), f"no helm in {binary.parent}"
    return binary
