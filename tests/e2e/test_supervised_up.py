"""`make up` survives `kill -9` of any service: the real `python -m infra.local.up` (what `make up`
runs), in a state folder and on ports of the test's own, on the shared local cluster. Each of the
four services is killed in turn; each is logged as exited and started again, the platform is ready
again, and a store ordered afterwards gets ready. Ctrl-C then stops it all, and nothing is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from infra.cluster import cluster
from infra.local.platform import SERVICES
from infra.local.servers import free_port
from storeplane_runtime.settings import ROOT

pytestmark = pytest.mark.e2e

UP_PORTS = (
    "NATS",
    "NATS_MONITORING",
    "POSTGRES",
    "NOTIFIER_METRICS",
    "PROVISIONER_METRICS",
    "STATUS_METRICS",
    "VICTORIA_METRICS",
    "OTLP_GRPC",
    "OTLP_HTTP",
    "JAEGER_QUERY",
    "JAEGER_QUERY_GRPC",
)


class Up:
    """The running `up` process and every line it printed so far."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.up"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def close(self) -> None:
        """After the process ended: the rest of its output read, the pipe closed."""
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, wanted: Callable[[str], bool], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if wanted(line):
                    return line
            assert self.process.poll() is None, "\n".join(self.lines[-40:])
            time.sleep(0.2)
        raise AssertionError("not printed in time; the last lines:\n" + "\n".join(self.lines[-40:]))


def service_pid(parent: int, name: str) -> int | None:
    """The pid of `python -m storeplane_<name>` that `parent` started, if it runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and f"storeplane_{name}".encode() in command and " Z " not in stat:
            return int(entry.name)
    return None


def wait_until(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout} s")


def cluster_running() -> bool:
    layout = cluster.Layout(cluster.DEFAULT_DIR)
    return all(cluster.running_pid(layout, component) for component in cluster.COMPONENTS)


def starts_with(prefix: str) -> Callable[[str], bool]:
    return lambda line: line.startswith(prefix)


def runs_again(parent: int, name: str, killed: int) -> Callable[[], bool]:
    return lambda: service_pid(parent, name) not in (None, killed)


def ready(api: str) -> bool:
    try:
        return httpx.get(f"{api}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def up(servers_dir: Path, kubeconfig: Path) -> Iterator[tuple[Up, str]]:
    port = free_port()
    env = {
        **os.environ,
        "STOREPLANE_STATE_DIR": str(servers_dir / f"up-{uuid.uuid4().hex[:6]}"),
        "STOREPLANE_CLUSTER_DIR": str(kubeconfig.parent),  # the session's cluster, which it must leave running
        "STOREPLANE_HTTP_PORT": str(port),
        # Every other port `make up` listens on (infra/local/up.py's Ports), free ones too.
        **{f"STOREPLANE_{name}_PORT": str(free_port()) for name in UP_PORTS},
    }
    running = Up(env)
    try:
        yield running, f"http://127.0.0.1:{port}"
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGINT)
            try:
                running.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait()
        running.close()


def test_make_up_starts_a_killed_service_again_and_stops_only_on_ctrl_c(up: tuple[Up, str]) -> None:
    running, api = up
    running.wait_for_line(lambda line: "Storeplane is up." in line, timeout=180)  # a cold Postgres takes a while
    parent = running.process.pid
    for name in SERVICES:
        pid = service_pid(parent, name)
        assert pid is not None, f"{name} is not running under make up"
        os.kill(pid, signal.SIGKILL)
        running.wait_for_line(starts_with(f"{name} exited with -9; starting it again"), 30)
        running.wait_for_line(starts_with(f"{name} started again (restart 1"), 30)
        wait_until(runs_again(parent, name, pid), 30, f"{name} running again")
        wait_until(lambda: ready(api), 60, f"the platform ready after {name} was killed")

    # Everything works again: a user orders a store and it gets ready.
    with httpx.Client(base_url=api, timeout=30) as http:
        email = f"up-{uuid.uuid4().hex[:8]}@example.com"
        registered = http.post("/api/v1/auth/register", json={"email": email, "password": "correct horse battery"})
        assert registered.status_code == 201, registered.text
        headers = {"Authorization": f"Bearer {registered.json()['token']}"}
        ordered = http.post("/api/v1/stores", json={"name": "after-kills", "engine": "woocommerce"}, headers=headers)
        assert ordered.status_code == 202, ordered.text
        store = ordered.json()["id"]
        wait_until(
            lambda: http.get(f"/api/v1/stores/{store}", headers=headers).json()["status"] == "ready", 180, "store ready"
        )
        assert http.delete(f"/api/v1/stores/{store}", headers=headers).status_code == 202
        wait_until(
            lambda: http.get(f"/api/v1/stores/{store}", headers=headers).json()["status"] == "deleted",
            180,
            "store deleted",
        )

    running_now = [service_pid(parent, name) for name in SERVICES]
    assert None not in running_now
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=90) == 0, "\n".join(running.lines[-40:])
    assert not [pid for pid in running_now if Path(f"/proc/{pid}").exists()], "a service outlived make up"
    assert cluster_running(), "make up stopped a cluster it had not started"
    after_stop = running.lines[running.lines.index("stopping...") :]
    assert not [line for line in after_stop if " exited with " in line], after_stop  # a stop is not a crash
