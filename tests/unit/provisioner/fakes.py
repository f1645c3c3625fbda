"""In-memory stand-ins for the provisioner's ports, for handler tests.

`FakeCluster` and `FakeHelm` pass the same contracts as the real adapters
(tests/integration/provisioner/test_cluster_contract.py and test_helm_contract.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from storeplane_contracts.events import Event, FailureStep, StallFinding
from storeplane_provisioner.errors import TemporaryError
from storeplane_provisioner.ports import Heartbeat


class FakeCluster:
    """Remembers what exists; `fail` makes a named operation raise, `hang` makes it wait forever;
    `urls` are a namespace's ingress URLs (a chart's Ingress, in a real cluster), `findings` what holds
    a namespace back (its pods, claims and Warning events, in a real cluster)."""

    def __init__(self) -> None:
        self.namespaces: dict[str, dict[str, str]] = {}
        self.secrets: dict[tuple[str, str], dict[str, str]] = {}
        self.guard_rails: list[tuple[str, str]] = []
        self.fail: dict[str, Exception] = {}
        self.hang: set[str] = set()
        self.revealed: set[tuple[str, str]] = set()
        self.urls: dict[str, dict[str, str]] = {}
        self.findings: dict[str, list[StallFinding]] = {}

    async def _maybe_fail(self, operation: str) -> None:
        if operation in self.fail:
            raise self.fail[operation]
        if operation in self.hang:
            await asyncio.Event().wait()  # until a deadline cancels it

    def _in_namespace(self, step: FailureStep, namespace: str) -> None:
        """Like the API server's 404, which the real adapter takes for a temporary failure."""
        if namespace not in self.namespaces:
            raise TemporaryError(step, "api_unavailable", f"namespaces {namespace!r} not found")

    async def ensure_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        await self._maybe_fail("namespace")
        self.namespaces.setdefault(name, dict(labels))

    async def ensure_resource_quota(self, namespace: str, hard: Mapping[str, str]) -> None:
        await self._maybe_fail("quota")
        self._in_namespace("quota", namespace)
        self.guard_rails.append(("quota", namespace))

    async def ensure_limit_range(self, namespace: str) -> None:
        self._in_namespace("limits", namespace)
        self.guard_rails.append(("limits", namespace))

    async def ensure_network_policy(self, namespace: str) -> None:
        self._in_namespace("network_policy", namespace)
        self.guard_rails.append(("network_policy", namespace))

    async def ensure_secret(self, namespace: str, name: str, data: Mapping[str, str]) -> bool:
        self._in_namespace("credentials", namespace)
        created = (namespace, name) not in self.secrets
        self.secrets.setdefault((namespace, name), dict(data))
        return created

    async def wait_workloads_ready(self, namespace: str, *, deadline: float, heartbeat: Heartbeat) -> None:
        await self._maybe_fail("readiness")
        await heartbeat()

    async def ingress_urls(self, namespace: str) -> dict[str, str]:
        return dict(self.urls.get(namespace, {}))

    async def stall_findings(self, namespace: str, *, since: float) -> list[StallFinding]:
        await self._maybe_fail("stall_findings")
        return list(self.findings.get(namespace, []))

    async def delete_namespace(self, namespace: str, *, deadline: float, heartbeat: Heartbeat) -> None:
        await self._maybe_fail("namespace_deletion")
        self.namespaces.pop(namespace, None)

    async def mark_deleting(self, namespace: str) -> None:
        self.guard_rails.append(("deleting", namespace))

    async def take_secret_once(self, namespace: str, name: str, *, store_id: str) -> dict[str, str] | str:
        await self._maybe_fail("credentials")
        if self.namespaces.get(namespace, {}).get("storeplane.io/store-id") != store_id:
            return "not_found"
        if (namespace, name) not in self.secrets:
            return "not_found"
        if (namespace, name) in self.revealed:
            return "already_revealed"
        self.revealed.add((namespace, name))
        return self.secrets[(namespace, name)]


class FakeHelm:
    """Releases by (namespace, name) with a revision counter; a release's manifest is one object
    named after the release and its chart (the fake renders no templates)."""

    def __init__(self) -> None:
        self.releases: dict[tuple[str, str], int] = {}
        self.values: dict[tuple[str, str], Mapping[str, Any]] = {}
        self.charts: dict[tuple[str, str], Path] = {}

    async def upgrade_install(self, release: str, chart: Path, namespace: str, values: Mapping[str, Any]) -> int:
        key = (namespace, release)
        self.releases[key] = self.releases.get(key, 0) + 1
        self.values[key] = values
        self.charts[key] = chart
        return self.releases[key]

    async def uninstall(self, release: str, namespace: str) -> None:
        self.releases.pop((namespace, release), None)

    async def manifest(self, release: str, namespace: str) -> str | None:
        if (namespace, release) not in self.releases:
            return None
        chart = self.charts[(namespace, release)].name
        return f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {release}-{chart}\n  namespace: {namespace}\n"


class FakeClock:
    """A `Clock` whose time passes only when something sleeps on it (a heartbeat) or `advance` is
    called: a deadline expires as soon as the time is past it, without waiting for it for real."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start
        self.timers: list[tuple[float, asyncio.Timeout]] = []

    def time(self) -> float:
        return self.now

    def timeout_at(self, when: float) -> asyncio.Timeout:
        if when <= self.now:
            return asyncio.timeout(0)
        timer = asyncio.timeout(None)  # expired by `advance`, on the loop's next iteration
        self.timers.append((when, timer))
        return timer

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [(when, timer) for when, timer in self.timers if when <= self.now]
        self.timers = [pending for pending in self.timers if pending not in due]
        loop = asyncio.get_running_loop()
        for _, timer in due:
            with contextlib.suppress(RuntimeError):  # the step finished (left its timer) meanwhile
                timer.reschedule(loop.time())

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


class Recorder:
    """A `publish` that keeps events and assigns sequences; drops duplicate ids like JetStream."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> int:
        if event.event_id not in {e.event_id for e in self.events}:
            self.events.append(event)
        return len(self.events)

    @property
    def types(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


async def no_heartbeat() -> None:
    return None
