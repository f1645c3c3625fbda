"""`make up` keeps its services running: a service that exits, whatever the cause (a crash, an
out-of-memory kill, `kill -9`), is started again, and the restart is logged. While it keeps
failing the wait before each start doubles (1 s up to 30 s), so a service that cannot start does
not spin; once it has run for a minute the wait is back at 1 s. Only Ctrl-C or SIGTERM stops the
platform: before, one service's exit stopped everything."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from infra.local.platform import ServiceProcess


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0  # seconds before the first start again
    most: float = 30.0  # the longest wait, however often it failed
    settled_after: float = 60.0  # a service up this long is healthy again: the next wait is `first`

    def delay(self, failures_in_a_row: int) -> float:
        return min(self.most, self.first * 2.0**failures_in_a_row)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Supervisor:
    """Watches services and starts those that exited again; `tick` does one round."""

    def __init__(
        self,
        services: Sequence[ServiceProcess],
        *,
        backoff: Backoff = Backoff(),
        start: Callable[[ServiceProcess], ServiceProcess] = ServiceProcess.restarted,
        say: Callable[[str], None] = _say,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._services = {service.name: service for service in services}
        self._backoff, self._start, self._say, self._clock = backoff, start, say, clock
        now = clock()
        self._started_at = dict.fromkeys(self._services, now)
        self._due: dict[str, float] = {}  # name -> when it is started again
        self._failures: Counter[str] = Counter()  # exits in a row, each without a settled run
        self.restarts: Counter[str] = Counter()

    @property
    def services(self) -> list[ServiceProcess]:
        """The processes running now (the ones to stop)."""
        return list(self._services.values())

    def tick(self) -> None:
        now = self._clock()
        for name, service in list(self._services.items()):
            if name in self._due:
                if now >= self._due[name]:
                    self._restart(name, service, now)
                continue
            code = service.process.poll()
            if code is None:
                if now - self._started_at[name] >= self._backoff.settled_after:
                    self._failures[name] = 0
                continue
            delay = self._backoff.delay(self._failures[name])
            self._failures[name] += 1
            self._due[name] = now + delay
            self._say(f"{name} exited with {code}; starting it again in {delay:g} s (its log: {service.log})")

    def _restart(self, name: str, service: ServiceProcess, now: float) -> None:
        del self._due[name]
        try:
            self._services[name] = self._start(service)
        except OSError as error:  # could not even be spawned: try again after a longer wait
            self._due[name] = now + self._backoff.delay(self._failures[name])
            self._failures[name] += 1
            self._say(f"{name} could not be started: {error}")
            return
        self._started_at[name] = now
        self.restarts[name] += 1
        self._say(f"{name} started again (restart {self.restarts[name]}, pid {self._services[name].process.pid})")

    def run_until(self, stopped: threading.Event, *, interval: float = 0.5) -> None:
        while not stopped.wait(interval):
            self.tick()

    def stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()
