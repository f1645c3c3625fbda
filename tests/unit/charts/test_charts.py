"""The engine charts against a store namespace's guard rails, without a cluster.

Each chart is linted (`helm lint --strict`) and rendered (`helm template`) with the values
the provisioner writes; the manifests must then stay in the release namespace, fit the
namespace's ResourceQuota and LimitRange (with room for a rolling update), carry probes,
requests and limits, run non-root, keep every secret in the credentials Secret and off every
command line, let exactly the pods that need the internet reach it past the namespace's
default-deny policy, and publish their URLs on an Ingress for the store's host. The quota
and limits are the provisioner's own, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from storeplane_provisioner.adapters.kubernetes.cluster import KubernetesCluster
from storeplane_provisioner.settings import ProvisionerSettings
from tests.unit.charts.conftest import run_helm

ROOT = Path(__file__).resolve().parents[3]
CHARTS = ROOT / "charts"
RELEASE = "store"
NAMESPACE = "store-x-12345678"
SECRET_NAME = "store-credentials"

# The provisioner's ResourceQuota for a store namespace, with its default settings.
QUOTA = ProvisionerSettings.model_construct().quota()
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
URLS_ANNOTATION = "storeplane.io/urls"
STORE_ID_LABEL = "storeplane.io/store-id"


@dataclass(frozen=True)
class Case:
    """One chart rendered with one set of extra values."""

    id: str
    chart: str
    urls: dict[str, str]
    # Components (app.kubernetes.io/component) whose pods must reach the internet; no other may.
    internet: frozenset[str]
    extra_values: dict[str, Any] = field(default_factory=dict)


WOOCOMMERCE_URLS = {"storefront": "/", "api": "/wp-json/wc/store/v1", "admin": "/wp-admin/"}
# Medusa is headless: its server offers the store API and the admin, no storefront.
MEDUSA_URLS = {"api": "/store", "admin": "/app"}
CASES = [
    # WordPress fetches updates and talks to payment gateways; the set-up Job downloads WooCommerce.
    Case("woocommerce", "woocommerce", WOOCOMMERCE_URLS, frozenset({"wordpress", "setup"})),
    # Server and worker call payment, notification and file services; the seed downloads nothing.
    Case("medusa", "medusa", MEDUSA_URLS, frozenset({"server", "worker"})),
    # The optional seed Job adds a pod: the quota must still hold.
    Case("medusa-seed", "medusa", MEDUSA_URLS, frozenset({"server", "worker"}), {"seed": {"enabled": True}}),
]
CASE = {case.id: case for case in CASES}


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


def render(helm: Path, case: Case, folder: Path) -> Rendered:
    canary = f"canary-{secrets.token_hex(16)}"
    values = _merge(store_values(canary), case.extra_values)
    values_file = folder / "values.json"
    values_file.write_text(json.dumps(values))  # JSON is YAML, as the provisioner writes it
    result = run_helm(
        helm, "template", RELEASE, str(CHARTS / case.chart), "--namespace", NAMESPACE, "--values", str(values_file)
    )
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert objects, "the chart rendered nothing"
    return Rendered(case, values, canary, result.stdout, objects)


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def rendered(request: pytest.FixtureRequest, helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    case: Case = request.param
    return render(helm, case, tmp_path_factory.mktemp(case.id))


@pytest.fixture(scope="module")
def woocommerce(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render(helm, CASE["woocommerce"], tmp_path_factory.mktemp("woocommerce"))


@pytest.fixture(scope="module")
def medusa(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render(helm, CASE["medusa"], tmp_path_factory.mktemp("medusa"))


class _LimitRangeRecorder:
    """Stands in for the Kubernetes API: keeps the LimitRange the provisioner creates."""

    body: Any = None

    async def create_namespaced_limit_range(self, namespace: str, body: Any) -> None:
        self.body = body


@pytest.fixture(scope="module")
async def limit_range() -> dict[str, dict[str, str]]:
    """The provisioner's container LimitRange (`default`, `defaultRequest`, `max`), taken from
    the adapter that creates it, so this test and the namespace cannot disagree."""
    cluster = KubernetesCluster(cast(Any, object()))  # a client that is never called
    recorder = _LimitRangeRecorder()
    cluster.core = cast(Any, recorder)
    await cluster.ensure_limit_range(NAMESPACE)
    [item] = [i for i in recorder.body.spec.limits if i.type == "Container"]
    return {"limits": dict(item.default), "requests": dict(item.default_request), "max": dict(item.max or {})}


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


def container_quantity(
    container: dict[str, Any], bound: str, resource: str, limit_range: dict[str, dict[str, str]]
) -> Fraction:
    """A container's request or limit, with the LimitRange's defaults filled in (a missing
    request defaults to the limit when there is one)."""
    resources = container.get("resources", {})
    value = resources.get(bound, {}).get(resource)
    if value is None and bound == "requests":
        value = resources.get("limits", {}).get(resource)
    if value is None:
        value = limit_range[bound][resource]
    return quantity(resource, value)


def pod_resources(workload: dict[str, Any], limit_range: dict[str, dict[str, str]]) -> dict[str, Fraction]:
    """What one pod of a workload counts against the quota: per resource, the larger of
    the sum of its containers and its largest init container (init containers run one at
    a time, before the others), as the scheduler and the quota do."""
    spec = pod_spec(workload)
    total: dict[str, Fraction] = {}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            key = f"{kind}.{resource}"
            regular = sum((container_quantity(c, kind, resource, limit_range) for c in spec["containers"]), Fraction(0))
            init = max(
                (container_quantity(c, kind, resource, limit_range) for c in spec.get("initContainers", [])),
                default=Fraction(0),
            )
            total[key] = max(regular, init)
    total["pods"] = Fraction(1)
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


def describe(usage: dict[str, Fraction]) -> str:
    return ", ".join(f"{key}={float(value):g}" for key, value in sorted(usage.items()))


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels and matchExpressions) selects `labels`."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if not {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]:
            return False
    return True


def opens_the_internet(policy: dict[str, Any]) -> bool:
    """Whether a NetworkPolicy lets the pods it selects open HTTPS connections to any public address."""
    spec = policy["spec"]
    types = spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])]
    if "Egress" not in types:
        return False
    for rule in spec.get("egress", []):
        peers = rule.get("to", [])
        to_anywhere = not peers or any(peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for peer in peers)
        ports = rule.get("ports", [])
        https = not ports or any(p.get("port") == 443 and p.get("protocol", "TCP") == "TCP" for p in ports)
        if to_anywhere and https:
            return True
    return False


def secret_variables(containers: list[dict[str, Any]]) -> set[str]:
    """Names of environment variables that hold secret material: read from a Secret, or built
    from such a variable with Kubernetes' $(NAME) expansion (e.g. a DATABASE_URL)."""
    names: set[str] = set()
    for container in containers:
        for env in container.get("env", []):
            derived = any(f"$({name})" in str(env.get("value", "")) for name in names)
            if env.get("valueFrom", {}).get("secretKeyRef") or derived:
                names.add(env["name"])
    return names


def script_text(container: dict[str, Any]) -> str:
    return "\n".join(str(part) for part in [*container.get("command", []), *container.get("args", [])])


# `printf ... |`: the shell's builtin printf writes its arguments into a pipe, to the next
# command's stdin, without starting a process, so they are in no process's argv.
_PRINTF_INTO_A_PIPE = re.compile(r"(?m)^\s*printf\s[^|\n]*\|\s*$")


def argv_mentions(text: str, name: str) -> bool:
    """Whether a script or an argument list hands variable `name` to a process's arguments:
    $NAME, ${NAME...} (the shell) or $(NAME) (Kubernetes' own expansion of command and args)."""
    return bool(re.search(rf"\$[{{(]?{re.escape(name)}(?![A-Za-z0-9_])", _PRINTF_INTO_A_PIPE.sub("", text)))


def named(workloads: list[dict[str, Any]], component: str) -> dict[str, Any]:
    """The one workload of a component (app.kubernetes.io/component)."""
    [workload] = [w for w in workloads if w["metadata"]["labels"]["app.kubernetes.io/component"] == component]
    return workload


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {env["name"]: env.get("value", env.get("valueFrom")) for env in container.get("env", [])}


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


def test_containers_stay_within_the_limit_range(rendered: Rendered, limit_range: dict[str, dict[str, str]]) -> None:
    over = []
    for workload in rendered.of_kind(*WORKLOADS):
        for kind, container in all_containers(workload):
            for resource, most in limit_range["max"].items():
                if container_quantity(container, "limits", resource, limit_range) > quantity(resource, most):
                    over.append(f"{workload['metadata']['name']} {kind} {container['name']}: {resource} over {most}")
    assert not over, over


def test_workloads_fit_the_namespace_quota(rendered: Rendered, limit_range: dict[str, dict[str, str]]) -> None:
    usage: defaultdict[str, Fraction] = defaultdict(Fraction)
    for workload in rendered.of_kind(*WORKLOADS):
        for key, value in pod_resources(workload, limit_range).items():
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
    during_update = defaultdict(Fraction, usage)
    for deployment in rendered.of_kind("Deployment"):
        extra = update_extra_pods(deployment)
        for key, value in pod_resources(deployment, limit_range).items():
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


def test_exactly_the_pods_that_need_the_internet_may_reach_it(rendered: Rendered) -> None:
    """The namespace denies egress but DNS and in-namespace traffic; a chart's NetworkPolicy
    must open HTTPS to public addresses for every pod that needs it (e.g. a Job that
    downloads a plugin) and for no other (a database never calls out)."""
    policies = [p for p in rendered.of_kind("NetworkPolicy") if opens_the_internet(p)]
    assert policies, "no NetworkPolicy opens the internet to any pod"
    reaching = set()
    for workload in rendered.of_kind(*WORKLOADS):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        if any(selects(policy["spec"]["podSelector"], labels) for policy in policies):
            reaching.add(labels["app.kubernetes.io/component"])
    assert reaching == rendered.case.internet


def test_no_secret_is_on_a_command_line(rendered: Rendered) -> None:
    """A process's arguments are readable by anyone who can list its processes: a secret
    belongs in the environment or on stdin, and a script reads it from there. Shell scripts
    shipped in ConfigMaps count too (e.g. a database's first-start script)."""
    containers = [c for workload in rendered.of_kind(*WORKLOADS) for _, c in all_containers(workload)]
    names = secret_variables(containers)
    assert {"WP_ADMIN_PASSWORD", "MEDUSA_ADMIN_PASSWORD"} & names, "no admin password in any container's env"
    scripts = {f"{c['name']} command/args": script_text(c) for c in containers}
    for config_map in rendered.of_kind("ConfigMap"):
        for key, text in config_map.get("data", {}).items():
            scripts[f"ConfigMap {config_map['metadata']['name']} {key}"] = text
    mentions = [
        f"{where}: {name}" for where, text in scripts.items() for name in sorted(names) if argv_mentions(text, name)
    ]
    assert not mentions, mentions


def test_medusa_server_and_worker_run_in_their_modes(medusa: Rendered) -> None:
    deployments = medusa.of_kind("Deployment")
    server = env_of(pod_spec(named(deployments, "server"))["containers"][0])
    worker = env_of(pod_spec(named(deployments, "worker"))["containers"][0])
    assert server["MEDUSA_WORKER_MODE"] == "server"
    assert worker["MEDUSA_WORKER_MODE"] == "worker"
    # Both on one Redis event bus and workflow engine: what the server emits, the worker handles.
    redis = f"redis://{RELEASE}-medusa-redis:6379"
    for env in (server, worker):
        assert (env["EVENTS_REDIS_URL"], env["WE_REDIS_URL"]) == (redis, redis)


def test_medusa_server_migrates_then_creates_the_admin_before_it_starts(medusa: Rendered) -> None:
    spec = pod_spec(named(medusa.of_kind("Deployment"), "server"))
    init = spec["initContainers"]
    assert [c["name"] for c in init] == ["wait-for-db", "migrate", "create-admin"]
    assert f"{RELEASE}-medusa-postgresql 5432" in script_text(init[0])
    assert "medusa db:migrate" in " ".join(init[1]["args"])
    assert spec["containers"][0]["args"] == ["npx", "medusa", "start"]

    # The admin comes from a script shipped with the chart, mounted read-only.
    script = "/opt/storeplane-scripts/create-admin.js"
    assert init[2]["args"] == ["npx", "medusa", "exec", script]
    [mount] = [m for m in init[2]["volumeMounts"] if script.startswith(m["mountPath"] + "/")]
    assert mount["readOnly"] is True
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    [config_map] = [c for c in medusa.of_kind("ConfigMap") if c["metadata"]["name"] == volume["configMap"]["name"]]
    shipped = (CHARTS / "medusa" / "files" / "create-admin.js").read_text()
    assert config_map["data"]["create-admin.js"] == shipped
    assert "process.env.MEDUSA_ADMIN_PASSWORD" in shipped
    logging = [line for line in shipped.splitlines() if re.search(r"\b(logger|console)\.", line)]
    assert logging, "the script says nothing of what it did"
    assert not [line for line in logging if re.search(r"\b(email|password)\b", line)], "it logs the login"


def test_wordpress_waits_for_mysql(woocommerce: Rendered) -> None:
    spec = pod_spec(named(woocommerce.of_kind("Deployment"), "wordpress"))
    mysql = named(woocommerce.of_kind("Service"), "mysql")
    waits = [
        c for c in spec.get("initContainers", []) if f"nc -z -w 2 {mysql['metadata']['name']} 3306" in script_text(c)
    ]
    assert waits, "no init container of the WordPress pod waits for MySQL"
    assert spec["initContainers"][0] is waits[0], "WordPress's files are copied before MySQL answers"


def test_wp_cli_job_installs_wordpress_and_woocommerce(woocommerce: Rendered) -> None:
    [job] = woocommerce.of_kind("Job")
    [container] = pod_spec(job)["containers"]
    script = script_text(container)
    steps = [
        "wp core install",
        "wp rewrite structure",
        "wp plugin install woocommerce",
        "wp plugin activate woocommerce",
    ]
    assert all(step in script for step in steps), script
    assert [script.index(step) for step in steps] == sorted(script.index(step) for step in steps)
    # The admin login is read from stdin, in the order of `wp core install`'s synopsis.
    assert "--prompt=admin_user,admin_password,admin_email" in script
    assert 'printf \'%s\\n\' "$WP_ADMIN_USER" "$WP_ADMIN_PASSWORD" "$WP_ADMIN_EMAIL" |' in script


@pytest.mark.parametrize("enabled", [False, True])
def test_medusa_seed_job_renders_only_when_enabled(helm: Path, tmp_path: Path, enabled: bool) -> None:
    case = Case("medusa", "medusa", MEDUSA_URLS, frozenset(), {"seed": {"enabled": enabled}})
    jobs = render(helm, case, tmp_path).of_kind("Job")
    assert [j["metadata"]["labels"]["app.kubernetes.io/component"] for j in jobs] == (["seed"] if enabled else [])
