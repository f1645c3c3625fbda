"""`make up`'s supervisor over real processes (a shell's `sleep` and `exit` stand in for services) and
a clock the test moves: an exited service is started again after a backoff that doubles while it
keeps failing and is reset once it ran long enough, and each exit and restart is logged."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.platform import ServiceProcess
from infra.local.supervision import Backoff, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _process(name: str, tmp_path: Path, command: str) -> ServiceProcess:
    return ServiceProcess(name, subprocess.Popen(["sh", "-c", command]), tmp_path / f"{name}.log")


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    """Every process the test starts, killed afterwards."""
    processes: list[ServiceProcess] = []
    yield processes
    for service in processes:
        service.kill()


def _wait_exited(service: ServiceProcess) -> None:
    service.process.wait(timeout=10)


def test_an_exited_service_is_started_again_after_a_doubling_backoff(
    tmp_path: Path, started: list[ServiceProcess]
) -> None:
    clock, said = Clock(), list[str]()

    def start(old: ServiceProcess) -> ServiceProcess:
        fresh = _process(old.name, tmp_path, "exit 3")  # it keeps failing
        started.append(fresh)
        return fresh

    crashing = _process("gateway", tmp_path, "exit 3")
    steady = _process("status", tmp_path, "sleep 60")
    started += [crashing, steady]
    supervisor = Supervisor(
        [crashing, steady], backoff=Backoff(first=1, most=4), start=start, say=said.append, clock=clock
    )

    waits = []
    for _ in range(4):
        _wait_exited(supervisor.services[0])
        supervisor.tick()  # sees the exit, schedules the start
        waits.append(said[-1])
        before = supervisor.services[0]
        clock.now += 0.5
        supervisor.tick()
        assert supervisor.services[0] is before  # not before its wait is over
        clock.now += 4
        supervisor.tick()
        assert supervisor.services[0] is not before
    assert [line.split(" in ")[1].split(" s")[0] for line in waits] == ["1", "2", "4", "4"]
    assert waits[0].startswith("gateway exited with 3; starting it again in 1 s")
    assert "gateway started again (restart 4" in said[-1]
    assert supervisor.restarts == {"gateway": 4}
    assert supervisor.services[1] is steady and steady.process.poll() is None  # the others are left alone


def test_a_service_that_ran_long_enough_starts_again_at_once(tmp_path: Path, started: list[ServiceProcess]) -> None:
    clock, said = Clock(), list[str]()
    backoff = Backoff(first=1, most=30, settled_after=60)
    replacements = iter(["exit 1", "sleep 60", "exit 1"])

    def start(old: ServiceProcess) -> ServiceProcess:
        fresh = _process(old.name, tmp_path, next(replacements))
        started.append(fresh)
        return fresh

    first = _process("provisioner", tmp_path, "exit 1")
    started.append(first)
    supervisor = Supervisor([first], backoff=backoff, start=start, say=said.append, clock=clock)
    for _ in range(2):  # two failures in a row: 1 s, then 2 s
        _wait_exited(supervisor.services[0])
        supervisor.tick()
        clock.now += 2
        supervisor.tick()
    assert "again in 2 s" in said[-2]
    running = supervisor.services[0]
    clock.now += 61  # it has run for a minute
    supervisor.tick()
    running.kill()
    supervisor.tick()
    assert "again in 1 s" in said[-1]


def test_a_service_that_cannot_be_spawned_is_tried_again_later(tmp_path: Path, started: list[ServiceProcess]) -> None:
    clock, said = Clock(), list[str]()
    attempts = []

    def start(old: ServiceProcess) -> ServiceProcess:
        attempts.append(clock.now)
        if len(attempts) == 1:
            raise OSError("no such file")
        fresh = _process(old.name, tmp_path, "sleep 60")
        started.append(fresh)
        return fresh

    dead = _process("notifier", tmp_path, "exit 0")
    started.append(dead)
    supervisor = Supervisor([dead], backoff=Backoff(first=1), start=start, say=said.append, clock=clock)
    _wait_exited(dead)
    supervisor.tick()
    clock.now += 1
    supervisor.tick()
    assert said[-1] == "notifier could not be started: no such file"
    clock.now += 2
    supervisor.tick()
    assert len(attempts) == 2 and supervisor.services[0].process.poll() is None
    assert supervisor.restarts == {"notifier": 1}
