"""Two cold builds of the cluster binaries started at once wait for each other: the second waits on
the first's lock, says so, and then uses what the first built instead of writing the same files.

The build itself (minutes of Go) is not repeated here: the test holds the lock as a first build
would, puts the binary in place and lets go, and `build.sh` in a cache of the test's own must then
finish without building anything (there is no Go on its PATH to build with)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BUILD = Path(__file__).resolve().parents[3] / "infra" / "cluster" / "build.sh"


def _bin_dir(cache: Path) -> Path:
    versions = dict(
        line.split("=", 1) for line in (BUILD.parent / "versions.env").read_text().splitlines() if "=" in line
    )
    name = "k8s-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}-kwok-{KWOK_VERSION}-helm-{HELM_VERSION}".format(**versions)
    return cache / "bin" / name


def _build_without_go(cache: Path) -> subprocess.Popen[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cache), "STOREPLANE_CACHE": str(cache)}
    return subprocess.Popen(
        ["bash", str(BUILD), "helm"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_second_build_waits_for_the_first_and_uses_what_it_built(tmp_path: Path) -> None:
    bin_dir = _bin_dir(tmp_path)
    bin_dir.mkdir(parents=True)
    with open(f"{bin_dir}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first build, still running
        second = _build_without_go(tmp_path)
        time.sleep(2)
        assert second.poll() is None, "the second build did not wait for the first"
        (bin_dir / "helm").write_text("#!/bin/sh\n")  # what the first build leaves behind
        os.chmod(bin_dir / "helm", 0o755)
        fcntl.flock(lock, fcntl.LOCK_UN)
        out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert "another build" in err and "waiting" in err
    assert out.strip() == str(bin_dir)
    assert "Go is needed" not in err  # it built nothing


def test_without_a_build_running_it_goes_ahead(tmp_path: Path) -> None:
    """No lock held: it does not wait, and without Go it says what it would have to build."""
    second = _build_without_go(tmp_path)
    _, err = second.communicate(timeout=30)
    assert second.returncode == 1
    assert "waiting" not in err and "Go is needed to build helm" in err
