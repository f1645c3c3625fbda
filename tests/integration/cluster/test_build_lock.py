"""Two cold builds of a Go tool started at once wait for each other: the second waits on the first's
lock, says so, and then uses what the first built instead of writing the same files. Each script that
builds Go tools into the cache (the cluster's binaries, the observability backends, tilt) takes the lock
of infra/lib/gobuild.sh.

The build itself (minutes of Go) is not repeated here: the test holds the lock as a first build
would, puts the binary in place and lets go, and the script in a cache of the test's own must then
finish without building anything (there is no Go on its PATH to build with)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

INFRA = Path(__file__).resolve().parents[3] / "infra"


def _versions(script: Path) -> dict[str, str]:
    lines = (script.parent / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


@dataclass(frozen=True)
class GoBuild:
    """A build script, the argument that builds one binary, the folder it builds into and what it prints."""

    script: Path
    target: str
    folder: str
    binary: str
    prints_binary: bool = False

    def folder_in(self, cache: Path) -> Path:
        return cache / "bin" / self.folder

    def run_without_go(self, cache: Path) -> subprocess.Popen[str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(cache), "STOREPLANE_CACHE": str(cache)}
        command = ["bash", str(self.script), *([self.target] if self.target else [])]
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _builds() -> list[GoBuild]:
    cluster = _versions(INFRA / "cluster" / "build.sh")
    observability = _versions(INFRA / "observability" / "build.sh")
    tilt_version = next(
        line.split(":-", 1)[1].split("}", 1)[0]
        for line in (INFRA / "tilt" / "build.sh").read_text().splitlines()
        if line.startswith("TILT_VERSION=")
    )
    return [
        GoBuild(
            INFRA / "cluster" / "build.sh",
            "helm",
            "k8s-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}-kwok-{KWOK_VERSION}-helm-{HELM_VERSION}".format(**cluster),
            "helm",
        ),
        GoBuild(
            INFRA / "observability" / "build.sh",
            "jaeger",
            "observability-vm-{VICTORIAMETRICS_VERSION}-jaeger-{JAEGER_VERSION}".format(**observability),
            "jaeger",
        ),
        GoBuild(INFRA / "tilt" / "build.sh", "", f"tilt-{tilt_version}", "tilt", prints_binary=True),
    ]


BUILDS = _builds()


@pytest.mark.parametrize("build", BUILDS, ids=lambda build: build.script.parent.name)
def test_a_second_build_waits_for_the_first_and_uses_what_it_built(tmp_path: Path, build: GoBuild) -> None:
    bin_dir = build.folder_in(tmp_path)
    bin_dir.mkdir(parents=True)
    with open(f"{bin_dir}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first build, still running
        second = build.run_without_go(tmp_path)
        time.sleep(2)
        assert second.poll() is None, "the second build did not wait for the first"
        (bin_dir / build.binary).write_text("#!/bin/sh\n")  # what the first build leaves behind
        os.chmod(bin_dir / build.binary, 0o755)
        fcntl.flock(lock, fcntl.LOCK_UN)
        out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert "another build" in err and "waiting" in err
    assert out.strip() == str(bin_dir / build.binary if build.prints_binary else bin_dir)
    assert "Go is needed" not in err  # it built nothing


@pytest.mark.parametrize("build", BUILDS, ids=lambda build: build.script.parent.name)
def test_without_a_build_running_it_goes_ahead(tmp_path: Path, build: GoBuild) -> None:
    """No lock held: it does not wait, and without Go it says what it would have to build."""
    second = build.run_without_go(tmp_path)
    _, err = second.communicate(timeout=30)
    assert second.returncode == 1
    assert "waiting" not in err and f"Go is needed to build {build.binary}" in err
