"""The platform chart on a real cluster, rendered by `helm template`: its own three-node NATS
JetStream cluster or an external NATS, and every service with probes, requests and limits,
replicas, a PodDisruptionBudget, a CPU autoscaler and a NetworkPolicy that lets it reach only what
it needs. (tests/integration/test_platform_chart_install.py installs it into the local cluster.)"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.local.servers import nats_server_binary
from tests.unit.charts.conftest import PLATFORM_CHART, render_platform, run_helm

SERVICES = ("gateway", "provisioner", "status", "notifier")
PRIVATE_RANGES = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8"}
Objects = list[dict[str, Any]]


@pytest.fixture(scope="module")
def own_nats(helm: Path) -> Objects:
    """The defaults: the chart's own NATS cluster."""
    return render_platform(helm)


@pytest.fixture(scope="module")
def external_nats(helm: Path) -> Objects:
    return render_platform(helm, "nats.deploy=false", "nats.url=nats://nats.example.internal:4222")


def one(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def kinds(objects: Objects) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


def workloads(objects: Objects) -> dict[str, dict[str, Any]]:
    """Each workload by its component: the four Deployments and (if deployed) the NATS StatefulSet."""
    found = (o for o in objects if o["kind"] in {"Deployment", "StatefulSet"})
    return {o["metadata"]["labels"]["app.kubernetes.io/component"]: o for o in found}


def env_of(workload: dict[str, Any]) -> dict[str, Any]:
    [container] = workload["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value") for e in container["env"]}


def test_by_default_it_deploys_a_three_node_nats_jetstream_cluster(own_nats: Objects) -> None:
    nats = one(own_nats, "StatefulSet", "sp-nats")
    assert nats["spec"]["replicas"] == 3 and nats["spec"]["podManagementPolicy"] == "Parallel"
    headless = one(own_nats, "Service", nats["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True
    assert {p["port"] for p in headless["spec"]["ports"]} == {4222, 6222, 8222}
    [claim] = nats["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    [container] = nats["spec"]["template"]["spec"]["containers"]
    assert {"name": "data", "mountPath": "/data"} in container["volumeMounts"]
    conf = one(own_nats, "ConfigMap", "sp-nats")["data"]["nats.conf"]
    assert re.search(r"^\s*sync_interval: always$", conf, re.M), "every write fsynced before its ack"
    assert 'store_dir: "/data"' in conf
    routes = re.findall(r'"nats://([\w.-]+):6222"', conf)
    assert routes == [f"sp-nats-{i}.sp-nats-headless.storeplane.svc" for i in range(3)]
    assert one(own_nats, "PodDisruptionBudget", "sp-nats")["spec"]["minAvailable"] == 2  # a quorum of 3
    for service in SERVICES:
        env = env_of(workloads(own_nats)[service])
        assert env["STOREPLANE_NATS_URL"] == "nats://sp-nats:4222", service
        assert env["STOREPLANE_STREAM_REPLICAS"] == "3", service  # the STORES stream at R3
    assert env_of(workloads(own_nats)["status"])["STOREPLANE_NATS_MONITORING_URL"] == "http://sp-nats:8222"


def test_the_nats_configuration_is_one_nats_server_accepts(own_nats: Objects, tmp_path: Path) -> None:
    """The ConfigMap's nats.conf, with the users Secret's auth.conf where the pod mounts it: beside it."""
    pod = one(own_nats, "StatefulSet", "sp-nats")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"] == ["nats-server", "--config", "/etc/nats/nats.conf"]
    assert {"name": "config", "mountPath": "/etc/nats"} in container["volumeMounts"]
    [config] = [volume for volume in pod["volumes"] if volume["name"] == "config"]
    assert config["projected"]["sources"] == [
        {"configMap": {"name": "sp-nats"}},
        {"secret": {"name": "storeplane-nats-users", "items": [{"key": "auth.conf", "path": "auth.conf"}]}},
    ]
    users = one(own_nats, "Secret", "storeplane-nats-users")
    (tmp_path / "auth.conf").write_text(base64.b64decode(users["data"]["auth.conf"]).decode())
    (tmp_path / "nats.conf").write_text(one(own_nats, "ConfigMap", "sp-nats")["data"]["nats.conf"])
    checked = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(tmp_path / "nats.conf")],
        capture_output=True,
        text=True,
        env={**os.environ, "SERVER_NAME": "sp-nats-0"},
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_nats_image_is_the_nats_server_the_tests_run(own_nats: Objects) -> None:
    tested = subprocess.run([nats_server_binary(), "--version"], capture_output=True, text=True, check=True)
    [container] = one(own_nats, "StatefulSet", "sp-nats")["spec"]["template"]["spec"]["containers"]
    version = re.search(r"v(\d+\.\d+\.\d+)", tested.stdout)
    assert version is not None, tested.stdout
    assert container["image"] == f"nats:{version[1]}-alpine"


def test_an_external_nats_replaces_the_cluster(external_nats: Objects) -> None:
    assert not {kind for kind, name in kinds(external_nats) if name.startswith("sp-nats")}
    assert set(workloads(external_nats)) == set(SERVICES)
    for service in SERVICES:
        env = env_of(workloads(external_nats)[service])
        assert env["STOREPLANE_NATS_URL"] == "nats://nats.example.internal:4222", service
        assert env["STOREPLANE_STREAM_REPLICAS"] == "1", service  # a single server unless told
    assert env_of(workloads(external_nats)["status"])["STOREPLANE_NATS_MONITORING_URL"] == ""


def test_an_external_three_node_cluster_gets_r3_streams(helm: Path) -> None:
    objects = render_platform(helm, "nats.deploy=false", "nats.url=nats://n:4222", "nats.streamReplicas=3")
    assert {env_of(w)["STOREPLANE_STREAM_REPLICAS"] for w in workloads(objects).values()} == {"3"}


def test_an_external_nats_needs_its_url(helm: Path) -> None:
    result = run_helm(helm, "template", "sp", str(PLATFORM_CHART), "--set", "nats.deploy=false")
    assert result.returncode != 0
    assert "nats.url is required when nats.deploy is false" in result.stderr


@pytest.mark.parametrize("rendering", ["own_nats", "external_nats"])
def test_every_container_has_probes_requests_and_limits(rendering: str, request: pytest.FixtureRequest) -> None:
    objects: Objects = request.getfixturevalue(rendering)
    for component, workload in workloads(objects).items():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            assert {"readinessProbe", "livenessProbe"} <= set(container), component
            for probe in ("readinessProbe", "livenessProbe"):
                assert container[probe]["httpGet"]["port"] in {"http", "metrics", "monitoring"}, component
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), component
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), component


def test_the_metrics_only_services_are_probed_on_their_metrics_port(own_nats: Objects) -> None:
    """The provisioner, status and notifier have no HTTP API: their metrics server is what answers."""
    for service in ("provisioner", "status", "notifier"):
        [container] = workloads(own_nats)[service]["spec"]["template"]["spec"]["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}, (service, probe)
    [gateway] = workloads(own_nats)["gateway"]["spec"]["template"]["spec"]["containers"]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/health"


def test_every_service_has_replicas_a_disruption_budget_and_a_cpu_autoscaler(own_nats: Objects) -> None:
    for service in SERVICES:
        deployment = workloads(own_nats)[service]
        assert deployment["spec"]["replicas"] == 2, service
        budget = one(own_nats, "PodDisruptionBudget", f"sp-{service}")
        assert budget["spec"]["minAvailable"] == 1, service
        assert (
            budget["spec"]["selector"]["matchLabels"].items()
            <= deployment["spec"]["template"]["metadata"]["labels"].items()
        ), service
        autoscaler = one(own_nats, "HorizontalPodAutoscaler", f"sp-{service}")
        assert autoscaler["apiVersion"] == "autoscaling/v2"
        assert autoscaler["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"sp-{service}",
        }
        assert autoscaler["spec"]["minReplicas"] == 2 and autoscaler["spec"]["maxReplicas"] > 2, service
        assert autoscaler["spec"]["metrics"] == [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
            }
        ], service


def test_replicas_and_autoscaling_follow_the_values(helm: Path) -> None:
    objects = render_platform(helm, "status.replicas=3", "gateway.autoscaling.enabled=false")
    assert workloads(objects)["status"]["spec"]["replicas"] == 3
    assert one(objects, "HorizontalPodAutoscaler", "sp-status")["spec"]["minReplicas"] == 3
    assert ("HorizontalPodAutoscaler", "sp-gateway") not in kinds(objects)
    assert ("PodDisruptionBudget", "sp-gateway") in kinds(objects)


# --- network policies ----------------------------------------------------------------------


def peer_names(peers: list[dict[str, Any]] | None, components: dict[str, dict[str, str]]) -> set[str]:
    """Each NetworkPolicy peer, named: a component of the chart its podSelector picks, `dns`,
    `cluster` (any pod), an ipBlock's CIDR with its exceptions; no peers at all: `anywhere`."""
    if not peers:
        return {"anywhere"}
    names = set()
    for peer in peers:
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            names.add(f"{block['cidr']} except {','.join(sorted(block.get('except', [])))}")
        elif peer.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"}:
            names.add("dns")
        elif "podSelector" in peer:
            wanted = peer["podSelector"]["matchLabels"].items()
            [component] = [name for name, labels in components.items() if wanted <= labels.items()]
            names.add(component)
        else:
            assert peer == {"namespaceSelector": {}}, peer
            names.add("cluster")
    return names


def reach(objects: Objects) -> dict[str, dict[str, set[tuple[str, int]]]]:
    """Per component: the (peer, port) pairs its NetworkPolicy allows, as `ingress` and `egress`."""
    components = {name: w["spec"]["template"]["metadata"]["labels"] for name, w in workloads(objects).items()}
    allowed: dict[str, dict[str, set[tuple[str, int]]]] = {}
    for policy in (o for o in objects if o["kind"] == "NetworkPolicy"):
        spec = policy["spec"]
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        [component] = peer_names([{"podSelector": spec["podSelector"]}], components)
        allowed[component] = {
            direction: {
                (peer, port["port"])
                for rule in spec.get(direction, [])
                for peer in peer_names(rule.get("to" if direction == "egress" else "from"), components)
                for port in rule["ports"]
            }
            for direction in ("ingress", "egress")
        }
    return allowed


DNS = {("dns", 53)}
INTERNET = f"0.0.0.0/0 except {','.join(sorted(PRIVATE_RANGES))}"


def test_each_component_reaches_only_what_it_needs(own_nats: Objects) -> None:
    allowed = reach(own_nats)
    assert set(allowed) == {*SERVICES, "nats"}  # every pod of the chart is governed
    nats = ("nats", 4222)
    postgres = ("anywhere", 5432)
    assert allowed["gateway"] == {"ingress": {("anywhere", 8080)}, "egress": DNS | {nats, postgres}}
    assert allowed["provisioner"] == {
        "ingress": {("cluster", 9103)},
        "egress": DNS | {nats, ("anywhere", 443), ("anywhere", 6443)},  # the Kubernetes API
    }
    assert allowed["status"] == {"ingress": {("cluster", 9104)}, "egress": DNS | {nats, postgres, ("nats", 8222)}}
    assert allowed["notifier"] == {"ingress": {("cluster", 9102)}, "egress": DNS | {nats, postgres, (INTERNET, 443)}}
    assert allowed["nats"] == {
        "ingress": {*((service, 4222) for service in SERVICES), ("nats", 6222), ("status", 8222), ("cluster", 8222)},
        "egress": DNS | {("nats", 6222)},
    }


def test_with_an_external_nats_services_reach_it_on_its_port(external_nats: Objects) -> None:
    allowed = reach(external_nats)
    assert set(allowed) == set(SERVICES)
    for service in SERVICES:
        assert ("anywhere", 4222) in allowed[service]["egress"], service
        assert not any(peer == "nats" for peer, _ in allowed[service]["egress"]), service


def test_network_peers_come_from_the_values(helm: Path) -> None:
    database = "networkPolicy.postgres.peers[0].ipBlock.cidr=10.20.0.0/24"
    api = "networkPolicy.kubernetesApi.peers[0].ipBlock.cidr=10.0.0.1/32"
    allowed = reach(render_platform(helm, database, api, "networkPolicy.webhooks.ports={443,8443}"))
    assert ("10.20.0.0/24 except ", 5432) in allowed["gateway"]["egress"]
    assert ("anywhere", 5432) not in allowed["gateway"]["egress"]
    assert ("10.0.0.1/32 except ", 6443) in allowed["provisioner"]["egress"]
    assert {(INTERNET, 443), (INTERNET, 8443)} <= allowed["notifier"]["egress"]
    assert "NetworkPolicy" not in {o["kind"] for o in render_platform(helm, "networkPolicy.enabled=false")}


def test_tracing_is_reached_on_the_ports_of_its_urls(helm: Path) -> None:
    """Set tracing URLs, and the services may reach them: on the URL's port, else its scheme's."""
    assert not any(port in {4318, 16686} for _, port in reach(render_platform(helm))["gateway"]["egress"])
    traced = render_platform(
        helm, "tracing.otlpEndpoint=https://otel.example.com", "tracing.queryUrl=http://jaeger:16686"
    )
    allowed = reach(traced)
    for service in SERVICES:
        assert ("anywhere", 443) in allowed[service]["egress"], service
    assert ("anywhere", 16686) in allowed["gateway"]["egress"]
    assert not any(port == 16686 for _, port in allowed["status"]["egress"])
    collector = reach(render_platform(helm, "tracing.otlpEndpoint=http://jaeger-collector:4318"))
    assert all(("anywhere", 4318) in collector[service]["egress"] for service in SERVICES)


def test_a_stream_cannot_have_more_replicas_than_the_cluster_has_servers(helm: Path) -> None:
    result = run_helm(helm, "template", "sp", str(PLATFORM_CHART), "--set", "nats.streamReplicas=5")
    assert result.returncode != 0
    assert "nats.streamReplicas (5) cannot exceed nats.cluster.replicas (3)" in result.stderr


def test_it_lints_with_an_external_nats(helm: Path) -> None:
    result = run_helm(
        helm, "lint", "--strict", str(PLATFORM_CHART), "--set", "nats.deploy=false,nats.url=nats://n:4222"
    )
    assert result.returncode == 0, result.stdout + result.stderr
