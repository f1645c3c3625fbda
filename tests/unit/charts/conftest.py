"""The helm binary for chart tests: Helm alone, built once from the Go module proxy into the
local cluster's versioned cache (`cluster.py helm`), without the control plane's binaries."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.cluster import cluster


def run_helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], capture_output=True, text=True, check=False, timeout=120)


PLATFORM_CHART = Path(__file__).resolve().parents[3] / "charts" / "storeplane"


def render_platform(helm: Path, *settings: str) -> list[dict[str, Any]]:
    """The platform chart's objects, released as `sp` in namespace `storeplane` with `--set` `settings`."""
    sets = [arg for setting in settings for arg in ("--set", setting)]
    result = run_helm(helm, "template", "sp", str(PLATFORM_CHART), "--namespace", "storeplane", *sets)
    assert result.returncode == 0, result.stderr
    return [o for o in yaml.safe_load_all(result.stdout) if o]


@pytest.fixture(scope="session")
def helm() -> Path:
    """The pinned Helm (HELM_VERSION in infra/cluster/versions.env)."""
    binary = cluster.helm_binary()
    assert binary.is_file(), f"no helm in {binary.parent}"
    return binary
