"""The store lifecycle as versioned events, one type per step.

Events are past tense and frozen. Each carries a `type` tag (the class name) and a
schema `version`; fields added by newer producers are ignored by older consumers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

import msgspec

Engine: TypeAlias = Literal["woocommerce", "medusa"]


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=True):
    """Fields every store event carries."""

    store_id: str
    owner_id: str
    event_id: str = msgspec.field(default_factory=new_id)
    occurred_at: datetime = msgspec.field(default_factory=now)
    version: int = 1


class StoreRequested(Event, frozen=True, kw_only=True):
    """A user asked for a store; the gateway accepted it."""

    name: str
    engine: Engine
    namespace: str
    trace_id: str = ""


class ProvisioningStarted(Event, frozen=True, kw_only=True):
    """The provisioner picked the request up (again, after a redelivery)."""

    attempt: int = 1


class NamespaceCreated(Event, frozen=True, kw_only=True):
    """The store's namespace exists, labelled with store, owner and engine."""

    namespace: str


class QuotaApplied(Event, frozen=True, kw_only=True):
    """The namespace's ResourceQuota is in place."""

    namespace: str
    hard: dict[str, str] = {}


class LimitsApplied(Event, frozen=True, kw_only=True):
    """The namespace's LimitRange (container defaults) is in place."""

    namespace: str


class NetworkPolicyApplied(Event, frozen=True, kw_only=True):
    """The namespace's default-deny NetworkPolicy is in place."""

    namespace: str


class CredentialsCreated(Event, frozen=True, kw_only=True):
    """The store's generated credentials are in a Secret (never in the event)."""

    namespace: str
    secret: str


class ChartInstalled(Event, frozen=True, kw_only=True):
    """`helm upgrade --install` of the engine's chart succeeded."""

    namespace: str
    release: str
    chart: str
    revision: int


class StoreReady(Event, frozen=True, kw_only=True):
    """Every workload is ready; the store answers at its URLs."""

    urls: dict[str, str]


FailureStep: TypeAlias = Literal[
    "namespace",
    "quota",
    "limits",
    "network_policy",
    "credentials",
    "chart",
    "readiness",
    "uninstall",
    "namespace_deletion",
    "deadline",
]


class ProvisioningFailed(Event, frozen=True, kw_only=True):
    """The store could not be provisioned; `reason` says what a user can do."""

    step: FailureStep
    reason: str
    message: str
    retryable: bool


class StepRetrying(Event, frozen=True, kw_only=True):
    """A step met a problem that may pass (named by `reason` and `message`, e.g. what holds a namespace
    back); the provisioner tries again in `retry_in_seconds`. The store's status does not change."""

    step: FailureStep
    reason: str
    message: str
    attempt: int
    max_attempts: int
    retry_in_seconds: float


class StallFinding(msgspec.Struct, frozen=True, kw_only=True):
    """One thing a stalled step's namespace showed, in Kubernetes' own words.

    `kind`: `pod_unschedulable`, `pod_waiting` (a container's waiting reason), `claim_unbound`,
    `quota_refused` or `event_warning` (other Warning events); more may come, so treat an unknown
    kind as `event_warning`. `object` is `Kind/name`, `reason` Kubernetes' reason (`ImagePullBackOff`,
    `Unschedulable`, `ProvisioningFailed`, `FailedCreate`, ...).
    """

    kind: str
    object: str
    reason: str
    message: str = ""


class StepStalled(Event, frozen=True, kw_only=True):
    """A step has run past max(3 x its engine's p95, a floor), and goes on under its own deadline;
    `findings` are what its namespace showed at that moment. At most one per step per attempt; the
    store's status does not change."""

    step: FailureStep
    running_for_seconds: float
    threshold_seconds: float
    findings: list[StallFinding] = []


class StoreRetryRequested(Event, frozen=True, kw_only=True):
    """The owner asked to provision a failed store again; steps already done are kept."""

    name: str
    engine: Engine
    namespace: str
    failed_step: str = ""
    trace_id: str = ""


class StoreDegraded(Event, frozen=True, kw_only=True):
    """A ready store no longer matches the cluster (changed outside Storeplane); a repair follows
    when the platform is configured to repair drift."""

    name: str
    engine: Engine
    namespace: str
    reason: str
    message: str
    repair: bool = True


class CredentialsRevealed(Event, frozen=True, kw_only=True):
    """The owner read the store's admin credentials (once); the secret itself is not here."""


class StoreDeletionRequested(Event, frozen=True, kw_only=True):
    """The owner asked for the store to be deleted."""

    namespace: str
    trace_id: str = ""


class ReleaseUninstalled(Event, frozen=True, kw_only=True):
    """The engine's Helm release is gone (or was never there)."""

    namespace: str
    release: str


class StoreDeleted(Event, frozen=True, kw_only=True):
    """The namespace is gone; the store's name may be reused."""

    namespace: str


class DeletionFailed(Event, frozen=True, kw_only=True):
    """Deletion stopped on a step; `reason` names what blocks it."""

    step: FailureStep
    reason: str
    message: str
    retryable: bool


AnyEvent: TypeAlias = (
    StoreRequested
    | ProvisioningStarted
    | NamespaceCreated
    | QuotaApplied
    | LimitsApplied
    | NetworkPolicyApplied
    | CredentialsCreated
    | ChartInstalled
    | StoreReady
    | CredentialsRevealed
    | ProvisioningFailed
    | StepRetrying
    | StepStalled
    | StoreRetryRequested
    | StoreDegraded
    | StoreDeletionRequested
    | ReleaseUninstalled
    | StoreDeleted
    | DeletionFailed
)

EVENT_TYPES: tuple[type[Event], ...] = AnyEvent.__args__

_decoder: msgspec.json.Decoder[AnyEvent] = msgspec.json.Decoder(AnyEvent)
_encoder = msgspec.json.Encoder()


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


def decode(data: bytes) -> AnyEvent:
    """Decode any store event; fields this version does not know are ignored.

    Every event is still at schema version 1. The first change that is not an added optional field
    brings its upcaster here: decode to builtins, rewrite `version` N to N+1, then convert.
    """
    return _decoder.decode(data)


def to_builtins(event: Event) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(event)
    return result
