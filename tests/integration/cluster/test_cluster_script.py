"""The cluster script's stages on their own, in a folder of the test's and on no port of the shared
cluster's: the PKI is made once and kept, a component that dies while `up` waits is started again
twice and then reported, a taken port is waited for and then named, and a failed `up` stops what
it started and nothing else."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from infra.cluster import cluster

pytestmark = pytest.mark.integration


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True).stdout


def test_the_pki_is_made_once_and_kept(tmp_path: Path) -> None:
    layout = cluster.Layout(tmp_path)
    token = cluster.ensure_pki(layout)
    pki = layout.pki
    made = {path.name: path.read_bytes() for path in pki.iterdir()}

    assert cluster.ensure_pki(layout) == token and len(token) == 48
    assert {path.name: path.read_bytes() for path in pki.iterdir()} == made
    assert layout.token_file.read_text() == f"{token},storeplane-admin,storeplane-admin,system:masters\n"
    assert layout.token_file.stat().st_mode & 0o777 == 0o600
    assert "OK" in openssl("verify", "-CAfile", str(pki / "ca.crt"), str(pki / "apiserver.crt"))
    names = openssl("x509", "-in", str(pki / "apiserver.crt"), "-noout", "-ext", "subjectAltName")
    assert "IP Address:127.0.0.1" in names and "IP Address:10.96.0.1" in names and "DNS:kubernetes.default" in names
    public = openssl("rsa", "-in", str(pki / "sa.key"), "-pubout")
    assert public == (pki / "sa.pub").read_text()


def sleeper(component: str, code: int | None = None) -> list[str]:
    """A command line that names `component` (as the real one does) and exits with `code`, or runs on."""
    program = f"import sys; sys.exit({code})" if code is not None else "import time; time.sleep(60)"
    return [sys.executable, "-c", program, component]


def test_a_component_that_dies_while_waiting_is_started_again_twice_then_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = cluster.Layout(tmp_path)
    commands = {"storeplane-dier": sleeper("storeplane-dier", code=3)}
    cluster.start(layout, "storeplane-dier", commands["storeplane-dier"])

    with pytest.raises(SystemExit, match=r"storeplane-dier ended \(exit code 3\) while waiting for the sky"):
        cluster.wait_until("the sky", lambda: False, 30, layout, commands)
    assert capsys.readouterr().err.count("starting it again") == 2


def test_a_wait_that_is_met_restarts_nothing(tmp_path: Path) -> None:
    layout = cluster.Layout(tmp_path)
    commands = {"storeplane-runner": sleeper("storeplane-runner")}
    cluster.start(layout, "storeplane-runner", commands["storeplane-runner"])
    pid = cluster.running_pid(layout, "storeplane-runner")
    checks = iter([False, False, True])
    try:
        cluster.wait_until("the third check", lambda: next(checks), 30, layout, commands)
        assert pid is not None and cluster.running_pid(layout, "storeplane-runner") == pid
    finally:
        cluster.stop(layout, "storeplane-runner")
    assert cluster.running_pid(layout, "storeplane-runner") is None


def test_a_taken_port_is_waited_for_then_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.setattr(cluster, "PORTS", {"storeplane-x": ((port, "STOREPLANE_X_PORT"),)})
        with pytest.raises(SystemExit, match=rf"port {port}, which storeplane-x needs, .* STOREPLANE_X_PORT"):
            cluster.wait_for_free_ports("storeplane-x", timeout=0.5)
        threading.Timer(0.5, holder.close).start()  # an earlier cluster that shuts down meanwhile
        cluster.wait_for_free_ports("storeplane-x", timeout=10)


def test_a_failed_up_stops_what_it_started_and_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = cluster.Layout(tmp_path)
    monkeypatch.setattr(cluster, "PORTS", {})  # the shared cluster holds the real ones
    cluster.start(layout, "etcd", sleeper("etcd"))  # running before `up`: someone else's

    def start_some_then_fail(layout: cluster.Layout) -> None:
        cluster.start(layout, "kube-apiserver", sleeper("kube-apiserver"))
        cluster.start(layout, "kube-scheduler", sleeper("kube-scheduler"))
        raise RuntimeError("a stage failed")

    monkeypatch.setattr(cluster, "start_all", start_some_then_fail)
    try:
        with pytest.raises(RuntimeError, match="a stage failed"):
            cluster.up(layout)
        assert cluster.running_pid(layout, "kube-apiserver") is None
        assert cluster.running_pid(layout, "kube-scheduler") is None
        assert not layout.pid_file("kube-apiserver").exists()
        assert cluster.running_pid(layout, "etcd") is not None
    finally:
        cluster.stop_all(layout)
