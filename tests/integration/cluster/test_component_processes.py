"""How the cluster script tells whether a component runs, right after its start too: the kernel
is then still loading the program and shows an empty command line for a moment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra.cluster import cluster

pytestmark = pytest.mark.integration


def test_a_component_checked_the_instant_it_starts_is_alive(cluster_bin: Path) -> None:
    for attempt in range(20):
        process = subprocess.Popen(
            [str(cluster_bin / "etcd"), "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        alive_at_once = cluster.process_alive(process.pid, "etcd")  # no pause: the window is microseconds
        process.wait()
        assert alive_at_once, f"attempt {attempt}: a starting process was taken for one that ended"
        assert not cluster.process_alive(process.pid, "etcd")  # reaped: gone
