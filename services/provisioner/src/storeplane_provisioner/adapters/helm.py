"""The Helm adapter: `helm upgrade --install` and `helm uninstall` as subprocesses.

Values are written to a file passed with `--values`; nothing a user sent is ever put on
the command line. `upgrade --install` makes a repeated step safe.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog
from opentelemetry import trace

from storeplane_contracts.events import FailureStep
from storeplane_provisioner import metrics
from storeplane_provisioner.errors import PermanentError, ProvisioningError, TemporaryError

log = structlog.get_logger("storeplane.provisioner.helm")
tracer = trace.get_tracer("storeplane.provisioner.helm")

# Helm's refusal while a release is `pending-*` (an operation runs, or a Helm died during one).
_IN_PROGRESS = "another operation (install/upgrade/rollback) is in progress"
# Messages of failures that a later attempt can get past.
_TEMPORARY_MARKERS = (
    "connection refused",
    "i/o timeout",
    "timed out",
    "tls handshake",
    "eof",
    _IN_PROGRESS,
    # Another Helm is installing the release right now: on a JetStream cluster a consumer's new leader
    # may hand a request still being worked on to a second provisioner (the scale-out test met it).
    # The later attempt upgrades what the first installed.
    "release: already exists",
    "service unavailable",
    "the server is currently unable",
    "too many requests",
)


def classify(step: FailureStep, stderr: str) -> ProvisioningError:
    """Map Helm's error text to a temporary or permanent failure with a short reason."""
    text = stderr.strip().splitlines()[-1] if stderr.strip() else "helm failed without a message"
    lowered = stderr.lower()
    if "exceeded quota" in lowered:
        return PermanentError(step, "quota_exceeded", text)
    if any(marker in lowered for marker in _TEMPORARY_MARKERS):
        return TemporaryError(step, "helm_unavailable", text)
    return PermanentError(step, "chart_failed", text)


class HelmCli:
    """Runs the `helm` binary against one kubeconfig."""

    def __init__(self, binary: str, kubeconfig: Path, *, timeout: float = 300.0) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig
        self.timeout = timeout

    async def _run(self, step: FailureStep, *args: str) -> str:
        """Run `helm *args` (timed by its command, `upgrade`, `history`, ...); raise a step's failure."""
        with metrics.timed(metrics.HELM_SECONDS, args[0]):
            return await self._run_helm(step, *args)

    async def _run_helm(self, step: FailureStep, *args: str) -> str:
        # Without a kubeconfig file Helm uses the pod's service account, as the Python client does.
        env = {**os.environ, **({"KUBECONFIG": str(self.kubeconfig)} if self.kubeconfig.is_file() else {})}
        try:
            process = await asyncio.create_subprocess_exec(
                self.binary, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
            )
        except FileNotFoundError as exc:
            raise PermanentError(step, "helm_missing", f"helm binary {self.binary!r} not found") from exc
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=self.timeout + 30)
        except TimeoutError as exc:
            raise TemporaryError(step, "helm_timeout", f"helm {args[0]} did not finish") from exc
        finally:
            if process.returncode is None:  # timed out, or cancelled by a step's deadline: leave no helm behind
                process.kill()
                await process.wait()
        if process.returncode != 0:
            raise classify(step, stderr.decode(errors="replace"))
        return stdout.decode()

    async def history(self, release: str, namespace: str) -> list[dict[str, Any]]:
        """The release's revisions, oldest first; empty when there is no such release."""
        try:
            output = await self._run("chart", "history", release, "--namespace", namespace, "--output", "json")
        except PermanentError as exc:
            if "not found" in exc.message:
                return []
            raise
        revisions: list[dict[str, Any]] = json.loads(output)
        return revisions

    async def recover_pending(self, release: str, namespace: str) -> str | None:
        """Unlock a release left `pending-*` by a Helm that died mid-operation; say what was done.

        Helm refuses any operation on such a release ("another operation is in progress"), so a
        crash there would block the store for good. A pending first install is uninstalled (the
        retry installs it afresh); a pending upgrade or rollback is rolled back to the last
        deployed revision.
        """
        revisions = await self.history(release, namespace)
        if not revisions or not str(revisions[-1]["status"]).startswith("pending-"):
            return None
        deployed = [r for r in revisions if r["status"] in ("deployed", "superseded")]
        if not deployed:
            await self._run("chart", "uninstall", release, "--namespace", namespace, "--no-hooks", "--wait")
            return f"uninstalled the interrupted first install of {release}"
        target = str(deployed[-1]["revision"])
        await self._run("chart", "rollback", release, target, "--namespace", namespace, "--wait")
        return f"rolled {release} back to revision {target} after an interrupted {revisions[-1]['status']}"

    async def upgrade_install(self, release: str, chart: Path, namespace: str, values: Mapping[str, Any]) -> int:
        """Install or upgrade, in a span; a release left `pending-*` by a Helm that died is recovered,
        then tried again.

        The recovery is looked for only when Helm refuses because of it, not before every install: a
        `helm history` first was one more Helm process (start-up, API discovery) per store."""
        attributes = {"helm.release": release, "helm.chart": chart.name, "k8s.namespace.name": namespace}
        with tracer.start_as_current_span("helm upgrade --install", attributes=attributes) as span:
            revision = await self._install_or_recover(release, chart, namespace, values)
            span.set_attribute("helm.revision", revision)
            return revision

    async def _install_or_recover(self, release: str, chart: Path, namespace: str, values: Mapping[str, Any]) -> int:
        # A release a crashed Helm left `pending-*` is recovered before every install, not only when
        # Helm refuses with "another operation is in progress": after a crash mid-install it may also
        # answer "release: already exists", which the fault test met (one Helm process more per store).
        if recovered := await self.recover_pending(release, namespace):
            log.warning("helm release recovered", namespace=namespace, action=recovered)
        return await self._upgrade_install(release, chart, namespace, values)

    async def _upgrade_install(self, release: str, chart: Path, namespace: str, values: Mapping[str, Any]) -> int:
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="values-") as values_file:
            json.dump(values, values_file)  # JSON is YAML
            values_file.flush()
            output = await self._run(
                "chart",
                "upgrade",
                "--install",
                release,
                str(chart),
                "--namespace",
                namespace,
                "--values",
                values_file.name,
                "--timeout",
                f"{int(self.timeout)}s",
                "--output",
                "json",
            )
        return int(json.loads(output)["version"])

    async def uninstall(self, release: str, namespace: str) -> None:
        attributes = {"helm.release": release, "k8s.namespace.name": namespace}
        with tracer.start_as_current_span("helm uninstall", attributes=attributes):
            await self._uninstall(release, namespace)

    async def _uninstall(self, release: str, namespace: str) -> None:
        await self._run(
            "uninstall",
            "uninstall",
            release,
            "--namespace",
            namespace,
            "--ignore-not-found",
            "--wait",
            "--timeout",
            f"{int(self.timeout)}s",
        )

    async def manifest(self, release: str, namespace: str) -> str | None:
        revisions = await self.history(release, namespace)
        if not revisions or revisions[-1]["status"] != "deployed":
            return None
        return await self._run("chart", "get", "manifest", release, "--namespace", namespace)
