"""The knobs provisioning runs with, and what it derives from them for one store: its labels,
its chart's values, its fresh credentials."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storeplane_contracts.events import Engine, FailureStep, StoreRequested

RELEASE = "store"
CREDENTIALS_SECRET = "store-credentials"


@dataclass(frozen=True)
class Provisioning:
    """The knobs handlers need, taken from settings by the bootstrap."""

    charts_dir: Path
    base_domain: str
    quota: dict[str, str]
    deadline_seconds: float
    ingress_class: str = ""
    storage_class: str = ""
    ingress_tls: bool = False
    ingress_annotations: dict[str, str] = field(default_factory=dict)
    labels_prefix: str = "storeplane.io"
    installable: frozenset[str] = field(default_factory=lambda: frozenset({"woocommerce"}))
    # Seconds per step, over the defaults in the step tables (steps.py); the settings give them all.
    step_seconds: Mapping[FailureStep, float] = field(default_factory=dict)
    # The operator's chart values per engine (e.g. Medusa's seed Job, an image digest); what the
    # platform sets for each store (store, ingress, storage, credentials) always wins over them.
    engine_values: Mapping[Engine, Mapping[str, Any]] = field(default_factory=dict)

    def host(self, request: StoreRequested) -> str:
        return f"{request.name}.{self.base_domain}"


def store_labels(request: StoreRequested, config: Provisioning) -> dict[str, str]:
    """The labels of a store's namespace: whose store it is, and that Storeplane manages it."""
    return {
        f"{config.labels_prefix}/store-id": request.store_id,
        f"{config.labels_prefix}/owner-id": request.owner_id,
        f"{config.labels_prefix}/engine": request.engine,
        "app.kubernetes.io/managed-by": "storeplane",
    }


def generated_credentials(host: str) -> dict[str, str]:
    """Fresh secrets for one store: every engine's chart takes the keys it needs."""
    return {
        "db-password": secrets.token_urlsafe(24),
        "db-root-password": secrets.token_urlsafe(24),
        "admin-user": "admin",
        "admin-password": secrets.token_urlsafe(18),
        "admin-email": f"admin@{host}",
        "jwt-secret": secrets.token_urlsafe(32),
        "cookie-secret": secrets.token_urlsafe(32),
    }


def chart_values(request: StoreRequested, config: Provisioning) -> dict[str, Any]:
    platform = {
        "store": {"id": request.store_id, "name": request.name, "host": config.host(request)},
        "ingress": {
            "className": config.ingress_class,
            "tls": config.ingress_tls,
            "annotations": config.ingress_annotations,
        },
        "storage": {"className": config.storage_class},
        "credentials": {"secretName": CREDENTIALS_SECRET},
    }
    return merged(config.engine_values.get(request.engine, {}), platform)


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`, mappings merged key by key (as Helm merges values files)."""
    result = dict(base)
    for key, value in over.items():
        below = result.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            result[key] = merged(below, value)
        else:
            result[key] = value
    return result
