"""The engine charts against a store namespace's guard rails, without a cluster.

Each chart is linted (`helm lint --strict`) and rendered (`helm template`) with the values
the provisioner writes; the manifests must then stay in the release namespace, fit the
namespace's ResourceQuota (with room for a rolling update), carry probes, requests and
limits, run non-root, keep every secret in the credentials Secret, and publish their URLs
on an Ingress for the store's host.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.charts.conftest import run_helm

ROOT = Path(__file__).resolve().parents[3]
CHARTS = ROOT / "charts"
RELEASE = "store"
NAMESPACE = "store-x-12345678"
SECRET_NAME = "store-credentials"

# The provisioner's ResourceQuota for a store namespace (settings.quota()).
QUOTA = {
    "requests.cpu": "2",
    "requests.memory": "4Gi",
    "limits.cpu": "4",
    "limits.memory": "8Gi",
    "pods": "20",
    "persistentvolumeclaims": "5",
    "requests.storage": "20Gi",
}
# Kinds a chart could render that have no namespace; none is allowed in a store.
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "PersistentVolume",
    "PriorityClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
}
WORKLOADS = {"Deployment", "StatefulSet", "Job"}
# The provisioner's LimitRange defaults, which apply to a container that sets no value
# (a missing request defaults to the limit when there is one).
LIMIT_RANGE_DEFAULTS = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
URLS_ANNOTATION = "storeplane.io/urls"
STORE_ID_LABEL = "storeplane.io/store-id"


@dataclass(frozen=True)
class Case:
    """One chart rendered with one set of extra values."""

    id: str
    chart: str
    urls: dict[str, str]
    extra_values: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("woocommerce", "woocommerce", {"storefront": "/", "admin": "/wp-admin/"}),
    Case("medusa", "medusa", {"storefront": "/", "api": "/store", "admin": "/app"}),
    # The optional seed Job adds a pod: the quota must still hold.
    Case("medusa-seed", "medusa", {"storefront": "/", "api": "/store", "admin": "/app"}, {"seed": {"enabled": True}}),
]


@dataclass(frozen=True)
class Rendered:
    case: Case
    values: dict[str, Any]
    canary: str
    text: str
    objects: list[dict[str, Any]]

    @property
    def host(self) -> str:
        return str(self.values["store"]["host"])

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] in kinds]


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def store_values(canary: str) -> dict[str, Any]:
    """What the provisioner writes, plus a canary wherever a chart might be tempted to
    take secret material from values instead of the Secret."""
    secret_material = {
        key: canary
        for key in (
            "db-password",
            "db-root-password",
            "admin-password",
            "jwt-secret",
            "cookie-secret",
            "password",
            "dbPassword",
            "adminPassword",
            "jwtSecret",
            "cookieSecret",
        )
    }
    return {
        "store": {"id": str(uuid.uuid4()), "name": "my-shop", "host": "my-shop.stores.localhost"},
        "ingress": {"className": "", "annotations": {}, "tls": False},
        "credentials": {"secretName": SECRET_NAME, **secret_material},
    }


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def rendered(request: pytest.FixtureRequest, helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    case: Case = request.param
    canary = f"canary-{secrets.token_hex(16)}"
    values = _merge(store_values(canary), case.extra_values)
    values_file = tmp_path_factory.mktemp(case.id) / "values.json"
    values_file.write_text(json.dumps(values))  # JSON is YAML, as the provisioner writes it
    result = run_helm(
        helm, "template", RELEASE, str(CHARTS / case.chart), "--namespace", NAMESPACE, "--values", str(values_file)
    )
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert objects, "the chart rendered nothing"
    return Rendered(case, values, canary, result.stdout, objects)


# --- helpers over the rendered objects ---------------------------------------------------


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def replicas(workload: dict[str, Any]) -> int:
    spec = workload["spec"]
    if workload["kind"] == "Job":
        return int(spec.get("parallelism", 1))
    return int(spec.get("replicas", 1))


def all_containers(workload: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind of container, container) for the init and regular containers of a workload."""
    spec = pod_spec(workload)
    for container in spec.get("initContainers", []):
        yield "init", container
    for container in spec["containers"]:
        yield "main", container


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_BYTES = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_BYTE_UNITS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def quantity(resource: str, value: str | int | float) -> Fraction:
    """A Kubernetes quantity as a number: CPU in cores, memory and storage in bytes, else a count."""
    text = str(value)
    if resource.endswith("cpu"):
        match = _CPU.match(text)
        assert match, f"unparsable CPU quantity {text!r}"
        number = Fraction(match.group(1))
        return number / 1000 if match.group(2) else number
    if resource.endswith(("memory", "storage")):
        match = _BYTES.match(text)
        assert match, f"unparsable byte quantity {text!r}"
        return Fraction(match.group(1)) * _BYTE_UNITS[match.group(2)]
    return Fraction(text)


def container_quantity(container: dict[str, Any], bound: str, resource: str) -> Fraction:
    """A container's request or limit, with the LimitRange's defaults filled in."""
    resources = container.get("resources", {})
    value = resources.get(bound, {}).get(resource)
    if value is None and bound == "requests":
        value = resources.get("limits", {}).get(resource)
    if value is None:
        value = LIMIT_RANGE_DEFAULTS[bound][resource]
    return quantity(resource, value)


def pod_resources(workload: dict[str, Any]) -> Counter[str]:
    """What one pod of a workload counts against the quota: per resource, the larger of
    the sum of its containers and its largest init container (init containers run one at
    a time, before the others), as the scheduler and the quota do."""
    spec = pod_spec(workload)
    total: Counter[str] = Counter()
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            key = f"{kind}.{resource}"
            regular = sum((container_quantity(c, kind, resource) for c in spec["containers"]), Fraction(0))
            init = max(
                (container_quantity(c, kind, resource) for c in spec.get("initContainers", [])),
                default=Fraction(0),
            )
            total[key] = max(regular, init)  # type: ignore[assignment]
    total["pods"] = 1
    return total


def _pods(value: int | str, replicas: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        share = replicas * int(value[:-1]) / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def update_extra_pods(deployment: dict[str, Any]) -> int:
    """Pods a Deployment counts against the quota beyond its replicas while it rolls out.
    A rolling update starts up to maxSurge new pods and stops up to maxUnavailable old ones,
    which still count while they terminate; Recreate waits until the old pods are gone."""
    strategy = deployment["spec"].get("strategy", {})
    if strategy.get("type", "RollingUpdate") == "Recreate":
        return 0
    rolling = strategy.get("rollingUpdate", {})
    count = replicas(deployment)
    return _pods(rolling.get("maxSurge", "25%"), count, round_up=True) + _pods(
        rolling.get("maxUnavailable", "25%"), count, round_up=False
    )


def describe(usage: Counter[str]) -> str:
    return ", ".join(f"{key}={float(value):g}" for key, value in sorted(usage.items()))


# --- tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", sorted({c.chart for c in CASES}))
def test_lint_strict(chart: str, helm: Path, tmp_path: Path) -> None:
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(store_values(f"canary-{secrets.token_hex(8)}")))
    result = run_helm(
        helm, "lint", "--strict", str(CHARTS / chart), "--namespace", NAMESPACE, "--values", str(values_file)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout


def test_every_object_is_in_the_release_namespace(rendered: Rendered) -> None:
    cluster_scoped = [f"{o['kind']}/{o['metadata']['name']}" for o in rendered.objects if o["kind"] in CLUSTER_SCOPED]
    assert not cluster_scoped, f"cluster-scoped objects in a store chart: {cluster_scoped}"
    elsewhere = {
        f"{o['kind']}/{o['metadata']['name']}": o["metadata"].get("namespace")
        for o in rendered.objects
        if o["metadata"].get("namespace") != NAMESPACE
    }
    assert not elsewhere, f"objects outside {NAMESPACE}: {elsewhere}"


def test_every_object_and_pod_carries_the_store_id(rendered: Rendered) -> None:
    store_id = rendered.values["store"]["id"]
    for obj in rendered.objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        assert obj["metadata"].get("labels", {}).get(STORE_ID_LABEL) == store_id, name
        if obj["kind"] in WORKLOADS:
            assert obj["spec"]["template"]["metadata"]["labels"].get(STORE_ID_LABEL) == store_id, name


def test_the_chart_has_workloads(rendered: Rendered) -> None:
    kinds = Counter(o["kind"] for o in rendered.objects)
    assert kinds["Deployment"] + kinds["StatefulSet"] >= 2, kinds
    # WooCommerce always sets itself up in a Job; Medusa seeds demo products only when asked.
    jobs = 1 if rendered.case.chart == "woocommerce" or rendered.case.extra_values.get("seed", {}).get("enabled") else 0
    assert kinds["Job"] == jobs, kinds


def test_every_container_has_requests_and_limits(rendered: Rendered) -> None:
    missing = []
    for workload in rendered.of_kind(*WORKLOADS):
        for kind, container in all_containers(workload):
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(bound, {}):
                        missing.append(f"{workload['metadata']['name']} {kind} {container['name']}: {bound}.{resource}")
    assert not missing, missing


def test_long_running_containers_have_probes(rendered: Rendered) -> None:
    missing = []
    for workload in rendered.of_kind("Deployment", "StatefulSet"):
        for container in pod_spec(workload)["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in container:
                    missing.append(f"{workload['metadata']['name']}/{container['name']}: {probe}")
    assert not missing, missing


def test_workloads_fit_the_namespace_quota(rendered: Rendered) -> None:
    usage: Counter[str] = Counter()
    for workload in rendered.of_kind(*WORKLOADS):
        for key, value in pod_resources(workload).items():
            usage[key] += value * replicas(workload)
    claims = rendered.of_kind("PersistentVolumeClaim")
    for claim in claims:
        usage["requests.storage"] += quantity("storage", claim["spec"]["resources"]["requests"]["storage"])
    usage["persistentvolumeclaims"] += len(claims)
    for statefulset in rendered.of_kind("StatefulSet"):
        for template in statefulset["spec"].get("volumeClaimTemplates", []):
            usage["persistentvolumeclaims"] += replicas(statefulset)
            storage = quantity("storage", template["spec"]["resources"]["requests"]["storage"])
            usage["requests.storage"] += storage * replicas(statefulset)

    # An upgrade rolls every Deployment at once (a StatefulSet replaces its pod only
    # after the old one is gone; a replaced Job's finished pod no longer counts).
    during_update = Counter(usage)
    for deployment in rendered.of_kind("Deployment"):
        extra = update_extra_pods(deployment)
        for key, value in pod_resources(deployment).items():
            during_update[key] += value * extra

    quota = {key: quantity(key, value) for key, value in QUOTA.items()}
    over = {key: float(usage[key]) for key, limit in quota.items() if usage[key] > limit}
    assert not over, f"over the quota {QUOTA}: {describe(usage)}"
    over_update = {key: float(during_update[key]) for key, limit in quota.items() if during_update[key] > limit}
    assert not over_update, f"a rolling update would exceed the quota {QUOTA}: {describe(during_update)}"
    # The steady state leaves real headroom in requests (other pods, a later sidecar).
    assert usage["requests.cpu"] <= quota["requests.cpu"] * Fraction(3, 4), describe(usage)
    assert usage["requests.memory"] <= quota["requests.memory"] * Fraction(3, 4), describe(usage)


def test_pods_run_non_root_without_a_service_account_token(rendered: Rendered) -> None:
    for workload in rendered.of_kind(*WORKLOADS):
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        assert spec.get("automountServiceAccountToken") is False, name
        assert spec.get("securityContext", {}).get("runAsNonRoot") is True, name
        for _, container in all_containers(workload):
            context = container.get("securityContext", {})
            assert context.get("allowPrivilegeEscalation") is False, f"{name}/{container['name']}"
            assert "ALL" in context.get("capabilities", {}).get("drop", []), f"{name}/{container['name']}"


def test_images_are_pinned(rendered: Rendered) -> None:
    for workload in rendered.of_kind(*WORKLOADS):
        for _, container in all_containers(workload):
            image: str = container["image"]
            if "@sha256:" in image:
                continue
            name, _, tag = image.rpartition(":")
            assert name and "/" not in tag and tag and tag != "latest", f"unpinned image {image!r}"


def test_no_literal_secret_material(rendered: Rendered) -> None:
    assert rendered.canary not in rendered.text, "a value meant for the Secret was rendered into a manifest"
    assert not rendered.of_kind("Secret"), "the chart must not create Secrets: the provisioner does"
    for workload in rendered.of_kind(*WORKLOADS):
        for _, container in all_containers(workload):
            where = f"{workload['metadata']['name']}/{container['name']}"
            for env in container.get("env", []):
                if re.search("PASSWORD|SECRET", env["name"], re.IGNORECASE):
                    assert "value" not in env, f"{where}: {env['name']} has a literal value"
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    assert ref, f"{where}: {env['name']} is not read from a Secret"
                    assert ref["name"] == SECRET_NAME, f"{where}: {env['name']} reads Secret {ref['name']}"


def test_env_references_are_defined_before_use(rendered: Rendered) -> None:
    """Kubernetes expands $(VAR) in an env value only from variables defined earlier in the
    list; an undefined one stays literal (e.g. a DATABASE_URL without its password)."""
    for workload in rendered.of_kind(*WORKLOADS):
        for _, container in all_containers(workload):
            defined: set[str] = set()
            for env in container.get("env", []):
                for reference in re.findall(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(env.get("value", ""))):
                    assert reference in defined, (
                        f"{workload['metadata']['name']}/{container['name']}: {env['name']} uses $({reference}) "
                        "before it is defined"
                    )
                defined.add(env["name"])


def test_ingress_serves_the_store_host_and_names_its_urls(rendered: Rendered) -> None:
    ingresses = rendered.of_kind("Ingress")
    assert ingresses, "no Ingress: the provisioner reports URLs from Ingress hosts"
    services = {s["metadata"]["name"]: s for s in rendered.of_kind("Service")}
    for ingress in ingresses:
        rules = ingress["spec"]["rules"]
        assert [rule["host"] for rule in rules] == [rendered.host]
        urls = json.loads(ingress["metadata"]["annotations"][URLS_ANNOTATION])
        assert isinstance(urls, dict)
        assert all(isinstance(k, str) and isinstance(v, str) and v.startswith("/") for k, v in urls.items()), urls
        assert urls == rendered.case.urls
        assert "tls" not in ingress["spec"]  # ingress.tls is false
        for rule in rules:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = services.get(backend["name"])
                assert service, f"the Ingress points to a missing Service {backend['name']}"
                port_names = {p.get("name") for p in service["spec"]["ports"]}
                assert backend["port"].get("name") in port_names, (backend, port_names)
