"""The steps as tables: one row per step, run in order by one loop (`handlers.run_steps`).

A row names the step (the name a failure reports and a deadline override uses), gives its
default deadline, says what it converges (safe to repeat: it checks what exists) and which event
says it is done. Adding a step is adding a row (and its name to `FailureStep` in the contracts).

Event ids are derived from the command and the event's key, so a step repeated after a crash
publishes the same id: JetStream drops the duplicate and the timeline shows each step once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypedDict, TypeVar

from storeplane_contracts.events import (
    ChartInstalled,
    CredentialsCreated,
    Event,
    FailureStep,
    LimitsApplied,
    NamespaceCreated,
    NetworkPolicyApplied,
    QuotaApplied,
    ReleaseUninstalled,
    StoreDeleted,
    StoreReady,
    StoreRequested,
)
from storeplane_provisioner.ports import Clock, Cluster, Heartbeat, Helm
from storeplane_provisioner.provisioning.config import (
    CREDENTIALS_SECRET,
    RELEASE,
    Provisioning,
    chart_values,
    generated_credentials,
    store_labels,
)

if TYPE_CHECKING:  # stalls imports the metrics, which import these tables
    from storeplane_provisioner.provisioning.stalls import Stalls


class StoreCommand(Protocol):
    """What every command run by a table carries."""

    @property
    def store_id(self) -> str: ...

    @property
    def owner_id(self) -> str: ...

    @property
    def event_id(self) -> str: ...

    @property
    def namespace(self) -> str: ...


Command = TypeVar("Command", bound=StoreCommand)
Result = TypeVar("Result")


class Identity(TypedDict):
    """The fields that place a step's event in its store's timeline."""

    store_id: str
    owner_id: str
    event_id: str


def step_id(cause_id: str, step: str) -> str:
    """The same command and step always give the same event id."""
    return str(uuid.uuid5(uuid.UUID(cause_id), step))


@dataclass(frozen=True)
class Run(Generic[Command]):
    """One command being carried out: what every row is given."""

    command: Command
    cluster: Cluster
    helm: Helm
    heartbeat: Heartbeat
    config: Provisioning
    clock: Clock
    # The delivery attempt, and the watchdog's wiring (None: steps are not watched for stalls).
    attempt: int = 1
    stalls: Stalls | None = None

    @property
    def namespace(self) -> str:
        return self.command.namespace

    def identity(self, key: str) -> Identity:
        return Identity(
            store_id=self.command.store_id,
            owner_id=self.command.owner_id,
            event_id=step_id(self.command.event_id, key),
        )


@dataclass(frozen=True)
class Step(Generic[Command, Result]):
    """One row: the step, its default deadline in seconds, what it converges, the event once done."""

    name: FailureStep
    seconds: float
    # Given the step's deadline (a wall-clock timestamp) for waits that watch it themselves.
    converge: Callable[[Run[Command], float], Awaitable[Result]]
    done: Callable[[Run[Command], Result], Event]
    # Such a wait says what is late (workloads not ready, what holds a namespace back), so it is
    # given a few seconds past its deadline to report before the timer cancels it.
    watches_deadline: bool = False

    def seconds_in(self, config: Provisioning) -> float:
        """The step's deadline in seconds: the operator's, else the row's default."""
        return config.step_seconds.get(self.name, self.seconds)


async def _ensure_credentials(run: Run[StoreRequested], deadline: float) -> bool:
    credentials = generated_credentials(run.config.host(run.command))
    return await run.cluster.ensure_secret(run.namespace, CREDENTIALS_SECRET, credentials)


async def _install_chart(run: Run[StoreRequested], deadline: float) -> int:
    chart = run.config.charts_dir / run.command.engine
    return await run.helm.upgrade_install(RELEASE, chart, run.namespace, chart_values(run.command, run.config))


def _chart_installed(run: Run[StoreRequested], revision: int) -> ChartInstalled:
    return ChartInstalled(
        **run.identity("chart"), namespace=run.namespace, release=RELEASE, chart=run.command.engine, revision=revision
    )


async def _wait_until_ready(run: Run[StoreRequested], deadline: float) -> dict[str, str]:
    await run.cluster.wait_workloads_ready(run.namespace, deadline=deadline, heartbeat=run.heartbeat)
    return await run.cluster.ingress_urls(run.namespace)


async def _uninstall(run: Run[StoreCommand], deadline: float) -> None:
    await run.cluster.mark_deleting(run.namespace)  # first, so the drift check leaves the store alone
    await run.helm.uninstall(RELEASE, run.namespace)


async def _delete_namespace(run: Run[StoreCommand], deadline: float) -> None:
    await run.cluster.delete_namespace(run.namespace, deadline=deadline, heartbeat=run.heartbeat)


# Guard rails are a few API calls; a chart and its readiness wait for images, volumes and set-up Jobs.
PROVISIONING_STEPS: tuple[Step[StoreRequested, Any], ...] = (
    Step(
        "namespace",
        60.0,
        lambda run, _: run.cluster.ensure_namespace(run.namespace, store_labels(run.command, run.config)),
        lambda run, _: NamespaceCreated(**run.identity("namespace"), namespace=run.namespace),
    ),
    Step(
        "quota",
        60.0,
        lambda run, _: run.cluster.ensure_resource_quota(run.namespace, run.config.quota),
        lambda run, _: QuotaApplied(**run.identity("quota"), namespace=run.namespace, hard=run.config.quota),
    ),
    Step(
        "limits",
        60.0,
        lambda run, _: run.cluster.ensure_limit_range(run.namespace),
        lambda run, _: LimitsApplied(**run.identity("limits"), namespace=run.namespace),
    ),
    Step(
        "network_policy",
        60.0,
        lambda run, _: run.cluster.ensure_network_policy(run.namespace),
        lambda run, _: NetworkPolicyApplied(**run.identity("network_policy"), namespace=run.namespace),
    ),
    Step(
        "credentials",
        60.0,
        _ensure_credentials,
        lambda run, _: CredentialsCreated(
            **run.identity("credentials"), namespace=run.namespace, secret=CREDENTIALS_SECRET
        ),
    ),
    Step("chart", 600.0, _install_chart, _chart_installed),
    Step(
        "readiness",
        600.0,
        _wait_until_ready,
        lambda run, urls: StoreReady(**run.identity("ready"), urls=urls),
        watches_deadline=True,
    ),
)

# Deletion, also what a withdrawn request runs (without the events) to remove what it created.
DELETION_STEPS: tuple[Step[StoreCommand, Any], ...] = (
    Step(
        "uninstall",
        300.0,
        _uninstall,
        lambda run, _: ReleaseUninstalled(**run.identity("uninstalled"), namespace=run.namespace, release=RELEASE),
    ),
    Step(
        "namespace_deletion",
        300.0,
        _delete_namespace,
        lambda run, _: StoreDeleted(**run.identity("deleted"), namespace=run.namespace),
        watches_deadline=True,
    ),
)

ALL_STEPS: tuple[Step[Any, Any], ...] = (*PROVISIONING_STEPS, *DELETION_STEPS)
# Settings override any of them (STOREPLANE_STEP_DEADLINES).
DEFAULT_STEP_SECONDS: Mapping[FailureStep, float] = {step.name: step.seconds for step in ALL_STEPS}
WATCHING_THEIR_DEADLINE: frozenset[FailureStep] = frozenset(step.name for step in ALL_STEPS if step.watches_deadline)
