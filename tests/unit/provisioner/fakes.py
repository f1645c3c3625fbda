"""In-memory stand-ins for the provisioner's ports, for handler tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from storeplane_contracts.events import Event
from storeplane_provisioner.ports import Heartbeat


class FakeCluster:
    """Remembers what exists; `fail` makes a named operation raise, `hang` makes it wait forever."""

    def __init__(self) -> None:
        self.namespaces: dict[str, dict[str, str]] = {}
        self.secrets: dict[tuple[str, str], dict[str, str]] = {}
        self.guard_rails: list[tuple[str, str]] = []
        self.fail: dict[str, Exception] = {}
        self.hang: set[str] = set()
        self.revealed: set[tuple[str, str]] = set()

    async def _maybe_fail(self, operation: str) -> None:
        if operation in self.fail:
            raise self.fail[operation]
        if operation in self.hang:
            await asyncio.Event().wait()  # until a deadline cancels it

    async def ensure_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        await self._maybe_fail("namespace")
        self.namespaces.setdefault(name, dict(labels))

    async def ensure_resource_quota(self, namespace: str, hard: Mapping[str, str]) -> None:
        await self._maybe_fail("quota")
        self.guard_rails.append(("quota", namespace))

    async def ensure_limit_range(self, namespace: str) -> None:
        self.guard_rails.append(("limits", namespace))

    async def ensure_network_policy(self, namespace: str) -> None:
        self.guard_rails.append(("network_policy", namespace))

    async def ensure_secret(self, namespace: str, name: str, data: Mapping[str, str]) -> bool:
        created = (namespace, name) not in self.secrets
        self.secrets.setdefault((namespace, name), dict(data))
        return created

    async def wait_workloads_ready(self, namespace: str, *, deadline: float, heartbeat: Heartbeat) -> None:
        await self._maybe_fail("readiness")
        await heartbeat()

    async def ingress_urls(self, namespace: str) -> dict[str, str]:
        return {"storefront": f"http://{namespace}.example/"}

    async def delete_namespace(self, namespace: str, *, deadline: float, heartbeat: Heartbeat) -> None:
        await self._maybe_fail("namespace_deletion")
        self.namespaces.pop(namespace, None)

    async def mark_deleting(self, namespace: str) -> None:
        self.guard_rails.append(("deleting", namespace))

    async def take_secret_once(self, namespace: str, name: str, *, store_id: str) -> dict[str, str] | str:
        await self._maybe_fail("credentials")
        if self.namespaces.get(namespace, {}).get("storeplane.io/store-id") != store_id:
            return "not_found"
        if (namespace, name) in self.revealed:
            return "already_revealed"
        self.revealed.add((namespace, name))
        return self.secrets[(namespace, name)]


class FakeHelm:
    """Releases by (namespace, name) with a revision counter."""

    def __init__(self) -> None:
        self.releases: dict[tuple[str, str], int] = {}
        self.values: dict[tuple[str, str], Mapping[str, Any]] = {}

    async def upgrade_install(self, release: str, chart: Path, namespace: str, values: Mapping[str, Any]) -> int:
        key = (namespace, release)
        self.releases[key] = self.releases.get(key, 0) + 1
        self.values[key] = values
        return self.releases[key]

    async def uninstall(self, release: str, namespace: str) -> None:
        self.releases.pop((namespace, release), None)


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
