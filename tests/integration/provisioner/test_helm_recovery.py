"""A Helm killed mid-install leaves its release `pending-install`, which blocks every later
operation; the provisioner's Helm adapter unlocks it and the install goes through."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from storeplane_provisioner.adapters.helm import HelmCli

pytestmark = pytest.mark.integration

CHARTS = Path(__file__).resolve().parents[2] / "charts"


async def run(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.DEVNULL)
    assert await process.wait() == 0, args


async def test_a_release_left_pending_by_a_killed_helm_is_recovered(kubeconfig: Path, cluster_bin: Path) -> None:
    namespace = f"helm-{uuid.uuid4().hex[:6]}"
    kubectl = [str(cluster_bin / "kubectl"), "--kubeconfig", str(kubeconfig)]
    await run(*kubectl, "create", "namespace", namespace)
    helm = HelmCli(str(cluster_bin / "helm"), kubeconfig)
    try:
        # A Helm that dies while waiting: the release stays pending-install.
        crashed = await asyncio.create_subprocess_exec(
            str(cluster_bin / "helm"),
            "install",
            "store",
            str(CHARTS / "stuck"),
            "--namespace",
            namespace,
            "--wait",
            "--timeout",
            "5m",
            env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        )
        # Helm records the release (a Secret) before it starts waiting; watch for it.
        await run(
            *kubectl, "wait", "--for=create", "secret/sh.helm.release.v1.store.v1", "-n", namespace, "--timeout=60s"
        )
        history = await helm.history("store", namespace)
        crashed.kill()
        await crashed.wait()
        assert history[-1]["status"] == "pending-install"

        revision = await helm.upgrade_install("store", CHARTS / "sample", namespace, {})
        final = await helm.history("store", namespace)
        assert final[-1]["status"] == "deployed" and final[-1]["revision"] == revision
        assert [r["status"] for r in final] == ["deployed"]  # the interrupted install was removed
    finally:
        await run(*kubectl, "delete", "namespace", namespace, "--wait=false")
