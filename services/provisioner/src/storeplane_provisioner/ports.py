"""What the handlers need from the outside world, as protocols.

Handlers depend on these, never on the concrete adapters, so unit tests can swap in fakes
and the import linter can check the boundary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from storeplane_contracts.events import Event, StallFinding
from storeplane_contracts.queries import StoreStatus, StoreView

Publish = Callable[[Event], Awaitable[int]]
Heartbeat = Callable[[], Awaitable[None]]
# Whether the store's deletion has been requested (asked of the stream, the one record that is never behind).
DeletionRequested = Callable[[str], Awaitable[bool]]


class Clock(Protocol):
    """Time as provisioning sees it: deadlines are wall-clock timestamps (a request's deadline is
    counted from when it was made), and a test can make time pass without waiting for it."""

    def time(self) -> float:
        """Now, in seconds since the epoch."""
        ...

    def timeout_at(self, when: float) -> asyncio.Timeout:
        """An `asyncio.timeout` that expires at the wall-clock timestamp `when`."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class Cluster(Protocol):
    """The Kubernetes operations provisioning needs; each one converges and is safe to repeat."""

    async def ensure_namespace(self, name: str, labels: Mapping[str, str]) -> None: ...

    async def ensure_resource_quota(self, namespace: str, hard: Mapping[str, str]) -> None: ...

    async def ensure_limit_range(self, namespace: str) -> None: ...

    async def ensure_network_policy(self, namespace: str) -> None: ...

    async def ensure_secret(self, namespace: str, name: str, data: Mapping[str, str]) -> bool:
        """Create the Secret unless it exists (existing data is kept); True if created."""
        ...

    async def wait_workloads_ready(self, namespace: str, *, deadline: float, heartbeat: Heartbeat) -> None:
        """Return when every Deployment, StatefulSet and Job in the namespace is ready or complete."""
        ...

    async def ingress_urls(self, namespace: str) -> dict[str, str]: ...

    async def stall_findings(self, namespace: str, *, since: float) -> list[StallFinding]:
        """What holds the namespace's workloads back now (pods, claims, Warning events seen since `since`,
        a wall-clock timestamp), for a step that runs long; empty when nothing is wrong."""
        ...

    async def delete_namespace(self, namespace: str, *, deadline: float, heartbeat: Heartbeat) -> None:
        """Delete the namespace and return once it is gone."""
        ...

    async def mark_deleting(self, namespace: str) -> None:
        """Label the namespace as being deleted, so the drift check leaves it alone."""
        ...

    async def take_secret_once(self, namespace: str, name: str, *, store_id: str) -> dict[str, str] | str:
        """The Secret's data the first time it is asked for; afterwards `already_revealed`.

        `not_found` when the namespace is not this store's or the Secret does not exist.
        """
        ...


class Drift(Protocol):
    """Compares what a ready store should have with what the cluster has."""

    async def drift(self, namespace: str, release: str) -> tuple[str, str] | None:
        """None when the store matches its release; else (reason, what is wrong)."""
        ...


class StoreDirectory(Protocol):
    """The platform's record of stores (the status service's read models)."""

    async def stores_in_status(self, statuses: list[StoreStatus]) -> list[StoreView]: ...


class StepFigures(Protocol):
    """How long steps usually take (the status service's figures, from the timelines)."""

    async def p95_seconds(self, engine: str, step: str) -> float | None:
        """The p95 of the step's duration for the engine, or None when there is no figure (yet)."""
        ...


class Helm(Protocol):
    """Helm releases; values go in a file, never on the command line."""

    async def upgrade_install(self, release: str, chart: Path, namespace: str, values: Mapping[str, Any]) -> int:
        """Install or upgrade; returns the release revision."""
        ...

    async def uninstall(self, release: str, namespace: str) -> None: ...

    async def manifest(self, release: str, namespace: str) -> str | None:
        """The release's rendered objects (YAML), or None when it is not deployed."""
        ...
