"""The platform chart (charts/storeplane): lints, runs every service hardened, and grants the
provisioner no wildcard and nothing beyond the resources store charts use."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.local.servers import nats_server_binary
from storeplane_contracts.permissions import USER_NAMES, USERS, chart_permissions
from tests.unit.charts.conftest import PLATFORM_CHART as CHART
from tests.unit.charts.conftest import render_platform, run_helm


@pytest.fixture(scope="module")
def objects(helm: Path) -> list[dict[str, Any]]:
    return render_platform(helm, "gateway.ingress.enabled=true")


def test_lints(helm: Path) -> None:
    result = run_helm(helm, "lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_runs_hardened(objects: list[dict[str, Any]]) -> None:
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] in {"Deployment", "StatefulSet"}}
    assert set(deployments) == {"sp-gateway", "sp-status", "sp-notifier", "sp-provisioner", "sp-nats"}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
        # Only the provisioner talks to the Kubernetes API.
        assert pod.get("automountServiceAccountToken", True) is (name == "sp-provisioner"), name


def test_the_gateway_signing_key_is_generated_not_written_down(objects: list[dict[str, Any]]) -> None:
    [secret] = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "storeplane-jwt"]
    assert len(secret["data"]["jwt-secret"]) >= 64


def test_the_charts_nats_permissions_are_the_tables() -> None:
    """files/nats-permissions.json is made from storeplane_contracts.permissions, never edited by hand."""
    assert (CHART / "files" / "nats-permissions.json").read_text() == chart_permissions(), (
        "regenerate it: uv run python -m storeplane_contracts.permissions "
        "> charts/storeplane/files/nats-permissions.json"
    )


def test_every_service_connects_as_its_own_nats_user(objects: list[dict[str, Any]], tmp_path: Path) -> None:
    [users] = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "storeplane-nats-users"]
    passwords = {key: base64.b64decode(value).decode() for key, value in users["data"].items() if key != "auth.conf"}
    assert set(passwords) == set(USER_NAMES) and len(set(passwords.values())) == len(USER_NAMES)
    assert all(len(password) >= 32 for password in passwords.values())
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        service = deployment["metadata"]["name"].removeprefix("sp-")
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["STOREPLANE_NATS_USER"]["value"] == service
        assert env["STOREPLANE_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "storeplane-nats-users",
            "key": service,
        }
    # auth.conf is a configuration nats-server accepts, with each user's password and permissions.
    conf = tmp_path / "auth.conf"
    conf.write_text(base64.b64decode(users["data"]["auth.conf"]).decode())
    checked = subprocess.run([nats_server_binary(), "-t", "-c", str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    text = conf.read_text()
    for user in USERS:
        assert f'password: "{passwords[user.name]}"' in text
        assert all(f'"{subject}"' in text for subject in user.publish_allowed() + user.subscribe_allowed())


def test_the_provisioner_role_is_least_privilege(objects: list[dict[str, Any]]) -> None:
    [role] = [o for o in objects if o["kind"] == "ClusterRole"]
    granted = {
        (group, resource) for rule in role["rules"] for group in rule["apiGroups"] for resource in rule["resources"]
    }
    assert all("*" not in rule["verbs"] and "*" not in rule["resources"] for rule in role["rules"])
    assert not {r for _, r in granted} & {
        "nodes",
        "clusterroles",
        "clusterrolebindings",
        "roles",
        "rolebindings",
        "customresourcedefinitions",
        "serviceaccounts",
        "pods/exec",
    }
    assert ("", "namespaces") in granted and ("apps", "deployments") in granted
    pods = next(rule for rule in role["rules"] if "pods" in rule["resources"])
    assert set(pods["verbs"]) == {"get", "list", "watch"}  # reads readiness, never runs anything
    events = next(rule for rule in role["rules"] if "events" in rule["resources"])
    assert set(events["verbs"]) == {"list", "watch"}  # why a workload is not ready, read only


def test_an_admission_policy_keeps_the_provisioner_in_store_namespaces(objects: list[dict[str, Any]]) -> None:
    [account] = [o for o in objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"].endswith("provisioner")]
    [policy] = [o for o in objects if o["kind"] == "ValidatingAdmissionPolicy"]
    [binding] = [o for o in objects if o["kind"] == "ValidatingAdmissionPolicyBinding"]
    assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}
    assert policy["spec"]["failurePolicy"] == "Fail"
    [who] = policy["spec"]["matchConditions"]
    username = f"system:serviceaccount:{account['metadata']['namespace']}:{account['metadata']['name']}"
    assert f'"{username}"' in who["expression"]
    [rules] = policy["spec"]["matchConstraints"]["resourceRules"]
    assert set(rules["operations"]) == {"CREATE", "UPDATE", "DELETE"} and rules["resources"] == ["*"]
    [validation] = policy["spec"]["validations"]
    assert '"storeplane.io/store-id" in variables.target.metadata.labels' in validation["expression"]


def test_every_service_serves_metrics_on_its_own_port(objects: list[dict[str, Any]]) -> None:
    """Each pod names the port Prometheus scrapes, and the service listens there on every interface."""
    wanted = {"sp-provisioner": ("PROVISIONER", 9103), "sp-status": ("STATUS", 9104), "sp-notifier": ("NOTIFIER", 9102)}
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    for name, (service, port) in wanted.items():
        [container] = deployments[name]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env[f"STOREPLANE_{service}_METRICS_PORT"] == str(port), name
        assert env[f"STOREPLANE_{service}_METRICS_HOST"] == "0.0.0.0", name
        assert {"name": "metrics", "containerPort": port} in container["ports"], name
