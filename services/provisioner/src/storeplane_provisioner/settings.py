"""The provisioner's settings: where the cluster and charts are, and how hard to work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from storeplane_contracts.events import Engine, FailureStep
from storeplane_provisioner.provisioning.deadlines import step_seconds
from storeplane_runtime.settings import ROOT, STATE_DIR, CommonSettings


class ProvisionerSettings(CommonSettings):
    """Environment: STOREPLANE_KUBECONFIG, STOREPLANE_CONCURRENCY, ..."""

    kubeconfig: Path = STATE_DIR / "cluster" / "kubeconfig"
    charts_dir: Path = ROOT / "charts"
    helm_bin: str = "helm"
    base_domain: str = "stores.localhost"
    # Passed to every chart: empty means the cluster's defaults.
    ingress_class: str = ""
    storage_class: str = ""
    # Production: serve stores over TLS, e.g. with {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}.
    ingress_tls: bool = False
    # The ingress controller's namespace and pod labels: the only pods from outside a store that the
    # store's network policy lets in.
    ingress_namespace: str = "ingress-nginx"
    ingress_pod_labels: dict[str, str] = Field(default_factory=lambda: {"app.kubernetes.io/name": "ingress-nginx"})
    ingress_annotations: dict[str, str] = Field(default_factory=dict)
    # Chart values per engine, laid under what the platform sets for each store, as JSON:
    # STOREPLANE_ENGINE_VALUES='{"medusa": {"seed": {"enabled": true}}}'.
    engine_values: dict[Engine, dict[str, Any]] = Field(default_factory=dict)
    # Stores provisioned at the same time by one provisioner process.
    concurrency: int = Field(default=4, ge=1)
    # Commands handed out and not yet finished, across every provisioner on the shared durable
    # (JetStream's max_ack_pending). Commands waiting for a retry count too, so keep it well above
    # the provisioners' total concurrency; adding provisioners adds throughput up to this limit.
    max_in_flight: int = Field(default=256, ge=1)
    # A provisioning still unfinished this long after the request fails with reason `timeout`.
    deadline_seconds: float = 900.0
    # Each step's own deadline in seconds, over the defaults in the step tables (provisioning/steps.py), as JSON:
    # STOREPLANE_STEP_DEADLINES='{"readiness": 1200}'. A step past it is retried.
    step_deadlines: dict[str, float] = Field(default_factory=dict)
    # A provisioning step running past max(3 x its engine's p95, this floor) is noted `StepStalled` in the
    # timeline with what its namespace shows (0: steps are not watched).
    stall_floor_seconds: float = Field(default=60.0, ge=0)
    # A temporary failure is retried this many times (with backoff) before the store fails.
    max_attempts: int = 5
    # Seconds between `in progress` signals to JetStream during long waits (below ack_wait).
    heartbeat_seconds: float = 10.0
    ack_wait_seconds: float = 60.0
    # Drift: how often ready stores are compared with the cluster (0: never), and whether a
    # store found changed outside Storeplane is repaired or only marked `degraded`.
    drift_check_seconds: float = 60.0
    repair_drift: bool = True
    # Per-store namespace quota (ResourceQuota .spec.hard).
    quota_requests_cpu: str = "2"
    quota_requests_memory: str = "4Gi"
    quota_limits_cpu: str = "4"
    quota_limits_memory: str = "8Gi"
    quota_pods: str = "20"
    quota_pvcs: str = "5"
    quota_storage: str = "20Gi"
    # Where Prometheus scrapes the process's `/metrics` (port 0: not served); 0.0.0.0 in a pod.
    provisioner_metrics_host: str = "127.0.0.1"
    provisioner_metrics_port: int = Field(default=9103, ge=0)

    @model_validator(mode="after")
    def _heartbeat_within_ack_wait(self) -> ProvisionerSettings:
        if self.heartbeat_seconds >= self.ack_wait_seconds:
            raise ValueError(
                f"STOREPLANE_HEARTBEAT_SECONDS ({self.heartbeat_seconds}) must be below "
                f"STOREPLANE_ACK_WAIT_SECONDS ({self.ack_wait_seconds}), or live requests get redelivered"
            )
        return self

    @field_validator("step_deadlines")
    @classmethod
    def _known_steps(cls, value: dict[str, float]) -> dict[str, float]:
        step_seconds(value)  # raises ValueError naming the unknown step or the bad value
        return value

    def step_seconds(self) -> dict[FailureStep, float]:
        return step_seconds(self.step_deadlines)

    def quota(self) -> dict[str, str]:
        return {
            "requests.cpu": self.quota_requests_cpu,
            "requests.memory": self.quota_requests_memory,
            "limits.cpu": self.quota_limits_cpu,
            "limits.memory": self.quota_limits_memory,
            "pods": self.quota_pods,
            "persistentvolumeclaims": self.quota_pvcs,
            "requests.storage": self.quota_storage,
        }
