"""The Tiltfile, evaluated by the real `tilt` (built from the Go module proxy by infra/tilt/build.sh,
cached) without a cluster or Docker: `tilt alpha tiltfile-result` runs it, Helm rendering the
platform chart, and prints what `tilt up` would build and deploy. Expected: one image per service,
each used by its workload in the chart; the development NATS and Postgres; the gateway's port
forward; the services waiting for NATS (and Postgres); and a build context holding every path the
Dockerfile copies (`cli` was missing from it once, which only a real build would have shown)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.local.platform import SERVICES
from storeplane_runtime.settings import ROOT

pytestmark = pytest.mark.integration

# A context tilt accepts (allow_k8s_contexts) whose server nobody listens on: nothing is contacted.
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: kind-kind, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: kind-kind, user: {token: unused}}]
contexts: [{name: kind-kind, context: {cluster: kind-kind, user: kind-kind}}]
current-context: kind-kind
"""


@pytest.fixture(scope="module")
def tiltfile_result(tmp_path_factory: pytest.TempPathFactory, cluster_bin: Path) -> dict[str, Any]:
    tilt = subprocess.run(
        ["bash", str(ROOT / "infra" / "tilt" / "build.sh")], check=True, stdout=subprocess.PIPE, text=True
    ).stdout.strip()
    home = tmp_path_factory.mktemp("tilt")
    (home / "kubeconfig").write_text(KUBECONFIG)
    env = {
        **os.environ,
        "KUBECONFIG": str(home / "kubeconfig"),
        "HOME": str(home),
        "PATH": f"{cluster_bin}:{os.environ['PATH']}",  # the Tiltfile's helm() runs Helm
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",
    }
    done = subprocess.run(
        [tilt, "alpha", "tiltfile-result", "-f", str(ROOT / "Tiltfile")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["Error"] is None, result["Error"]
    return result


def _manifests(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {manifest["Name"]: manifest for manifest in result["Manifests"]}


def test_each_service_has_its_image_used_by_its_workload(tiltfile_result: dict[str, Any]) -> None:
    manifests = _manifests(tiltfile_result)
    # "uncategorized": the namespace and the chart's objects that are not workloads (RBAC, Secrets).
    assert set(manifests) == {"nats", "postgres", "uncategorized", *(f"storeplane-{name}" for name in SERVICES)}
    assert "kind: Namespace" in manifests["uncategorized"]["DeployTarget"]["yaml"]
    for name in SERVICES:
        manifest = manifests[f"storeplane-{name}"]
        images = [target["selector"] for target in manifest["ImageTargets"]]
        assert images == [f"storeplane-{name}"], images
        assert manifest["DeployTarget"]["imageMaps"] == [f"storeplane-{name}"]
        assert manifest["ImageTargets"][0]["BuildDetails"]["target"] == name
        assert "nats" in manifest["ResourceDependencies"]
        assert f"image: storeplane-{name}" in manifest["DeployTarget"]["yaml"]
    assert not any(manifests[name]["ImageTargets"] for name in ("nats", "postgres", "uncategorized"))


def test_the_gateway_is_forwarded_to_port_8080(tiltfile_result: dict[str, Any]) -> None:
    gateway = _manifests(tiltfile_result)["storeplane-gateway"]
    forwards = gateway["DeployTarget"]["portForwardTemplateSpec"]["forwards"]
    assert [(f["localPort"], f["containerPort"]) for f in forwards] == [(8080, 8080)]
    assert set(gateway["ResourceDependencies"]) == {"nats", "postgres"}


def _within(source: str, kept: str) -> bool:
    return source == kept or source.startswith(kept.rstrip("/") + "/")


def test_the_build_context_holds_everything_the_dockerfile_copies(tiltfile_result: dict[str, Any]) -> None:
    copied = {
        source
        for line in (ROOT / "services" / "Dockerfile").read_text().splitlines()
        if (match := re.match(r"COPY (?!--from)(.+) \S+$", line))
        for source in match.group(1).split()
    }
    assert copied >= {"pyproject.toml", "contracts", "services"}  # the pattern reads the Dockerfile
    for manifest in _manifests(tiltfile_result).values():
        for target in manifest["ImageTargets"] or []:
            ignores = target["BuildDetails"]["contextIgnores"]
            kept = {pattern[1:] for ignore in ignores for pattern in ignore.get("patterns", []) if pattern[0] == "!"}
            missing = {source for source in copied if not any(_within(source, folder) for folder in kept)}
            assert not missing, f"{manifest['Name']}: not in the Tiltfile's `only`: {sorted(missing)}"
