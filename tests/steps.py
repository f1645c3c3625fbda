"""The timeline of a store provisioned without trouble, in order: one list for every tier's tests."""

from __future__ import annotations

PROVISIONING_STEPS = [
    "StoreRequested",
    "ProvisioningStarted",
    "NamespaceCreated",
    "QuotaApplied",
    "LimitsApplied",
    "NetworkPolicyApplied",
    "CredentialsCreated",
    "ChartInstalled",
    "StoreReady",
]
