"""The Kubernetes adapter (kubernetes-asyncio): namespaces, guard rails, secrets, readiness.

Creates are idempotent (409 means it exists), and waiting uses the watch API: a watch on
each workload kind and on the namespace's Warning events wakes the readiness check, so nothing
polls in a sleep loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException
from opentelemetry import trace

from storeplane_contracts.events import FailureStep, StallFinding
from storeplane_provisioner import metrics
from storeplane_provisioner.adapters.kubernetes.readiness import (
    RECENT,
    Surroundings,
    Workloads,
    fatal_problems,
    held_back,
    unready_workloads,
)
from storeplane_provisioner.adapters.kubernetes.stalls import stall_findings
from storeplane_provisioner.adapters.kubernetes.terminating import blocking_objects, summary
from storeplane_provisioner.errors import PermanentError, StepTimedOut, TemporaryError
from storeplane_provisioner.ports import Heartbeat
from storeplane_provisioner.provisioning.drifting import expected_objects, objects_missing

URLS_ANNOTATION = "storeplane.io/urls"
REVEALED_ANNOTATION = "storeplane.io/revealed-at"
STORE_LABEL = "storeplane.io/store-id"
MANAGED_BY = "app.kubernetes.io/managed-by=storeplane"
DELETING_LABEL = "storeplane.io/deleting"
# A list call to watch and its keyword arguments.
Watched = tuple[Callable[..., Any], dict[str, Any]]


def existing_file(path: Path) -> Path | None:
    return path if path.is_file() else None


tracer = trace.get_tracer("storeplane.provisioner.kubernetes")


class TimedApiClient(client.ApiClient):
    """The API client, each call timed by method and path template (`GET /api/v1/namespaces/{namespace}`:
    bounded, no names filled in) for `storeplane_kubernetes_call_duration_seconds`, in a span of its own.
    A watch is timed until its answer starts."""

    async def call_api(self, resource_path: str, method: str, *args: Any, **kwargs: Any) -> Any:
        operation = f"{method} {resource_path}"
        path_params = kwargs.get("path_params") or (args[0] if args else None) or {}
        attributes = {"http.request.method": method, "url.template": resource_path}
        if "namespace" in path_params:
            attributes["k8s.namespace.name"] = str(path_params["namespace"])
        if "name" in path_params:
            attributes["k8s.object.name"] = str(path_params["name"])
        # Spans only inside a store's work: the drift check's calls would each start a trace of their own.
        traced = trace.get_current_span().is_recording()
        span = tracer.start_as_current_span(f"kubernetes {operation}", attributes=attributes) if traced else None
        with span or contextlib.nullcontext(), metrics.timed(metrics.KUBERNETES_SECONDS, operation):
            return await super().call_api(resource_path, method, *args, **kwargs)


async def connect(kubeconfig: Path) -> client.ApiClient:
    """From the kubeconfig file if there is one, else the pod's service account (in-cluster)."""
    configuration = client.Configuration()
    if existing_file(kubeconfig):
        await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    else:
        # kubernetes-asyncio ships this function without annotations.
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return TimedApiClient(configuration)


def _temporary_or_permanent(exc: ApiException, step: FailureStep, what: str) -> Exception:
    body = exc.body.decode() if isinstance(exc.body, bytes) else str(exc.body or "")
    try:
        message = json.loads(body).get("message", body)
    except ValueError:
        message = body or str(exc.reason)
    if exc.status in (403, 422, 400):
        reason = "quota_exceeded" if "exceeded quota" in message else "rejected"
        return PermanentError(step, reason, f"{what}: {message}")
    return TemporaryError(step, "api_unavailable", f"{what}: {message}")


@contextlib.asynccontextmanager
async def _api_errors(step: FailureStep, what: str) -> AsyncIterator[None]:
    try:
        yield
    except ApiException as exc:
        raise _temporary_or_permanent(exc, step, what) from exc
    except (TimeoutError, OSError) as exc:
        raise TemporaryError(step, "api_unavailable", f"{what}: {exc}") from exc


async def _create(create: Callable[[], Awaitable[object]]) -> bool:
    """Create; an object that already exists (409) is success. True if we created it."""
    try:
        await create()
    except ApiException as exc:
        if exc.status == 409:
            return False
        raise
    return True


@dataclass(frozen=True)
class IngressController:
    """Where the cluster's ingress controller runs: the only pods from outside a store that may reach it."""

    namespace: str = "ingress-nginx"
    pod_labels: Mapping[str, str] = field(default_factory=lambda: {"app.kubernetes.io/name": "ingress-nginx"})


def isolation_policy(ingress: IngressController) -> client.V1NetworkPolicy:
    """A store namespace's default deny: in, only its own pods and the ingress controller's; out, only
    its own pods and the cluster DNS (charts add narrower egress of their own, e.g. for downloads)."""

    def pods_in(namespace: str, labels: Mapping[str, str]) -> client.V1NetworkPolicyPeer:
        return client.V1NetworkPolicyPeer(
            namespace_selector=client.V1LabelSelector(match_labels={"kubernetes.io/metadata.name": namespace}),
            pod_selector=client.V1LabelSelector(match_labels=dict(labels)),
        )

    same_namespace = client.V1NetworkPolicyPeer(pod_selector=client.V1LabelSelector())
    dns = client.V1NetworkPolicyEgressRule(
        to=[pods_in("kube-system", {"k8s-app": "kube-dns"})],  # CoreDNS keeps kube-dns's label
        ports=[client.V1NetworkPolicyPort(protocol=protocol, port=53) for protocol in ("UDP", "TCP")],
    )
    return client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="store-isolation"),
        spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(),
            policy_types=["Ingress", "Egress"],
            ingress=[
                client.V1NetworkPolicyIngressRule(
                    _from=[same_namespace, pods_in(ingress.namespace, ingress.pod_labels)]
                )
            ],
            egress=[client.V1NetworkPolicyEgressRule(to=[same_namespace]), dns],
        ),
    )


class KubernetesCluster:
    """The real cluster behind the `Cluster` port."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        watch_seconds: int = 30,
        heartbeat_seconds: float = 10.0,
        ingress: IngressController | None = None,
    ) -> None:
        self.api = api
        self.ingress = ingress or IngressController()
        # Long waits signal progress this often, so JetStream does not redeliver a live request.
        self.heartbeat_seconds = heartbeat_seconds
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.networking = client.NetworkingV1Api(api)
        self.watch_seconds = watch_seconds

    async def ensure_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        body = client.V1Namespace(
            metadata=client.V1ObjectMeta(
                name=name,
                labels={
                    **labels,
                    # Pod Security admission: the store's pods run non-root, without privileges or host access.
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            )
        )
        async with _api_errors("namespace", f"creating namespace {name}"):
            if not await _create(lambda: self.core.create_namespace(body)):
                current = await self.core.read_namespace(name)
                if current.status.phase == "Terminating":
                    raise TemporaryError(
                        "namespace", "namespace_terminating", f"namespace {name} is still being deleted"
                    )

    async def ensure_resource_quota(self, namespace: str, hard: Mapping[str, str]) -> None:
        body = client.V1ResourceQuota(
            metadata=client.V1ObjectMeta(name="store-quota"), spec=client.V1ResourceQuotaSpec(hard=dict(hard))
        )
        async with _api_errors("quota", f"applying the quota in {namespace}"):
            if not await _create(lambda: self.core.create_namespaced_resource_quota(namespace, body)):
                await self.core.replace_namespaced_resource_quota("store-quota", namespace, body)

    async def ensure_limit_range(self, namespace: str) -> None:
        body = client.V1LimitRange(
            metadata=client.V1ObjectMeta(name="store-limits"),
            spec=client.V1LimitRangeSpec(
                limits=[
                    client.V1LimitRangeItem(
                        type="Container",
                        default={"cpu": "500m", "memory": "512Mi"},
                        default_request={"cpu": "100m", "memory": "128Mi"},
                        max={"cpu": "2", "memory": "2Gi"},
                    )
                ]
            ),
        )
        async with _api_errors("limits", f"applying the limit range in {namespace}"):
            if not await _create(lambda: self.core.create_namespaced_limit_range(namespace, body)):
                await self.core.replace_namespaced_limit_range("store-limits", namespace, body)

    async def ensure_network_policy(self, namespace: str) -> None:
        body = isolation_policy(self.ingress)
        async with _api_errors("network_policy", f"applying the network policy in {namespace}"):
            if not await _create(lambda: self.networking.create_namespaced_network_policy(namespace, body)):
                await self.networking.replace_namespaced_network_policy("store-isolation", namespace, body)

    async def ensure_secret(self, namespace: str, name: str, data: Mapping[str, str]) -> bool:
        body = client.V1Secret(
            metadata=client.V1ObjectMeta(name=name, labels={"app.kubernetes.io/managed-by": "storeplane"}),
            type="Opaque",
            data={k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        )
        async with _api_errors("credentials", f"creating secret {name} in {namespace}"):
            return await _create(lambda: self.core.create_namespaced_secret(namespace, body))

    async def workloads(self, namespace: str) -> Workloads:
        deployments, statefulsets, jobs = await asyncio.gather(
            self.apps.list_namespaced_deployment(namespace),
            self.apps.list_namespaced_stateful_set(namespace),
            self.batch.list_namespaced_job(namespace),
        )
        return Workloads(deployments.items, statefulsets.items, jobs.items)

    async def _watch_changes(self, watched: Watched, changed: asyncio.Event) -> None:
        """Set `changed` on every event of one list call, re-watching as needed."""
        list_call, kwargs = watched
        while True:
            try:
                async with watch.Watch(return_type="object") as w:
                    async for _ in w.stream(list_call, timeout_seconds=self.watch_seconds, **kwargs):
                        changed.set()
            except (TimeoutError, ApiException, OSError):
                await asyncio.sleep(1)  # the API server is restarting: back off, then watch again
            changed.set()

    async def _wait_for(
        self,
        condition: Callable[[], Awaitable[bool]],
        watches: list[Watched],
        *,
        deadline: float,
        heartbeat: Heartbeat,
        on_timeout: Callable[[], Awaitable[Exception]],
    ) -> None:
        changed = asyncio.Event()
        tasks = [asyncio.create_task(self._watch_changes(watched, changed)) for watched in watches]
        try:
            while True:
                changed.clear()
                if await condition():
                    return
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise await on_timeout()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=min(self.heartbeat_seconds, remaining))
                await heartbeat()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def surroundings(self, namespace: str) -> Surroundings:
        """The namespace's pods, claims and events: what says why a workload is not ready."""
        pods, claims, events = await asyncio.gather(
            self.core.list_namespaced_pod(namespace),
            self.core.list_namespaced_persistent_volume_claim(namespace),
            self.core.list_namespaced_event(namespace),
        )
        return Surroundings(pods.items, claims.items, events.items)

    async def stall_findings(self, namespace: str, *, since: float) -> list[StallFinding]:
        async with _api_errors("readiness", f"reading what holds {namespace} back"):
            around = await self.surroundings(namespace)
        return stall_findings(around, since=datetime.fromtimestamp(since, UTC))

    async def wait_workloads_ready(self, namespace: str, *, deadline: float, heartbeat: Heartbeat) -> None:
        # Refusals recorded since shortly before this wait belong to this attempt (see `readiness.RECENT`).
        since = datetime.now(UTC) - RECENT

        async def ready() -> bool:
            async with _api_errors("readiness", f"reading workloads in {namespace}"):
                workloads = await self.workloads(namespace)
                unready, failed = unready_workloads(workloads)
                if unready or failed:
                    failed = fatal_problems(workloads, await self.surroundings(namespace), since=since)
            if failed:
                message = "; ".join(failed)
                reason = "quota_exceeded" if "exceeded quota" in message else "workload_failed"
                raise PermanentError("readiness", reason, message)
            return not unready

        async def timed_out() -> Exception:
            why: list[str] = []
            # Out of time either way: an API server that does not answer now only costs the details.
            with contextlib.suppress(ApiException, TimeoutError, OSError):
                workloads = await self.workloads(namespace)
                why = held_back(workloads, await self.surroundings(namespace))
            details = ": " + "; ".join(why) if why else ""
            return StepTimedOut("readiness", "timeout", f"not ready before the deadline{details}")

        in_namespace = {"namespace": namespace}
        await self._wait_for(
            ready,
            [
                (self.apps.list_namespaced_deployment, in_namespace),
                (self.apps.list_namespaced_stateful_set, in_namespace),
                (self.batch.list_namespaced_job, in_namespace),
                # A StatefulSet or Job whose pods admission refuses changes nothing but its Warning events.
                (self.core.list_namespaced_event, {**in_namespace, "field_selector": "type=Warning"}),
            ],
            deadline=deadline,
            heartbeat=heartbeat,
            on_timeout=timed_out,
        )

    async def ingress_urls(self, namespace: str) -> dict[str, str]:
        """URLs from the Ingress hosts; the annotation `storeplane.io/urls` names paths (default storefront=/)."""
        async with _api_errors("readiness", f"reading ingresses in {namespace}"):
            ingresses = await self.networking.list_namespaced_ingress(namespace)
        urls: dict[str, str] = {}
        for ingress in ingresses.items:
            tls_hosts = {h for t in (ingress.spec.tls or []) for h in (t.hosts or [])}
            names = json.loads((ingress.metadata.annotations or {}).get(URLS_ANNOTATION, '{"storefront": "/"}'))
            for rule in ingress.spec.rules or []:
                if not rule.host:
                    continue
                scheme = "https" if rule.host in tls_hosts else "http"
                for name, path in names.items():
                    urls.setdefault(name, f"{scheme}://{rule.host}{path}")
        return urls

    async def delete_namespace(self, namespace: str, *, deadline: float, heartbeat: Heartbeat) -> None:
        async with _api_errors("namespace_deletion", f"deleting namespace {namespace}"):
            try:
                await self.core.delete_namespace(namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise

        async def gone() -> bool:
            async with _api_errors("namespace_deletion", f"reading namespace {namespace}"):
                try:
                    await self.core.read_namespace(namespace)
                except ApiException as exc:
                    if exc.status == 404:
                        return True
                    raise
            return False

        async def stuck() -> Exception:
            async with _api_errors("namespace_deletion", f"reading namespace {namespace}"):
                ns = await self.core.read_namespace(namespace)
                conditions = ns.status.conditions or []
                blockers = await blocking_objects(self.api, namespace, conditions)
            said = [f"{c.type}: {c.message}" for c in conditions if c.status == "True"]
            what = f"held back by {summary(blockers)}" if blockers else "; ".join(said) or "no reason given"
            return StepTimedOut(
                "namespace_deletion", "namespace_stuck", f"namespace {namespace} is stuck terminating, {what}"
            )

        await self._wait_for(
            gone,
            [(self.core.list_namespace, {"field_selector": f"metadata.name={namespace}"})],
            deadline=deadline,
            heartbeat=heartbeat,
            on_timeout=stuck,
        )

    async def mark_deleting(self, namespace: str) -> None:
        patch = {"metadata": {"labels": {DELETING_LABEL: "true"}}}
        async with _api_errors("uninstall", f"labelling namespace {namespace}"):
            try:
                await self.core.patch_namespace(namespace, patch)
            except ApiException as exc:
                if exc.status != 404:
                    raise

    async def watch_store_namespaces(self, vanished: asyncio.Event) -> None:
        """Set `vanished` whenever a store namespace is deleted (by anyone), for the drift check."""
        while True:
            try:
                async with watch.Watch(return_type="object") as w:
                    async for event in w.stream(
                        self.core.list_namespace, label_selector=MANAGED_BY, timeout_seconds=self.watch_seconds
                    ):
                        if event["type"] == "DELETED":
                            vanished.set()
            except (TimeoutError, ApiException, OSError):
                await asyncio.sleep(1)  # the API server is restarting: back off, then watch again

    async def take_secret_once(self, namespace: str, name: str, *, store_id: str) -> dict[str, str] | str:
        try:
            ns = await self.core.read_namespace(namespace)
            if (ns.metadata.labels or {}).get(STORE_LABEL) != store_id:
                return "not_found"
            secret = await self.core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return "not_found"
            raise _temporary_or_permanent(exc, "credentials", f"reading secret {name}") from exc
        annotations = secret.metadata.annotations or {}
        if REVEALED_ANNOTATION in annotations:
            return "already_revealed"
        secret.metadata.annotations = {**annotations, REVEALED_ANNOTATION: datetime.now(UTC).isoformat()}
        try:
            # The read's resourceVersion makes this compare-and-swap: of two concurrent readers one wins.
            await self.core.replace_namespaced_secret(name, namespace, secret)
        except ApiException as exc:
            if exc.status == 409:
                return "already_revealed"
            raise _temporary_or_permanent(exc, "credentials", f"marking secret {name}") from exc
        return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


class ClusterDrift:
    """The `Drift` port: the namespace, the Helm release and its objects, as the cluster has them."""

    def __init__(self, cluster: KubernetesCluster, manifest: Callable[[str, str], Awaitable[str | None]]) -> None:
        self.cluster = cluster
        self.manifest = manifest
        # Namespaces whose workloads were unready at the last pass: unready twice in a row is drift.
        self._unready_before: set[str] = set()

    async def drift(self, namespace: str, release: str) -> tuple[str, str] | None:
        core = self.cluster.core
        try:
            ns = await core.read_namespace(namespace)
        except ApiException as exc:
            if exc.status == 404:
                return "namespace_missing", f"namespace {namespace} was deleted outside Storeplane"
            raise
        if ns.status.phase == "Terminating" or DELETING_LABEL in (ns.metadata.labels or {}):
            return None  # being deleted: not drift
        manifest = await self.manifest(release, namespace)
        if manifest is None:
            return "release_missing", f"Helm release {release} in {namespace} is missing or not deployed"
        missing = objects_missing(expected_objects(manifest), await self._present(namespace))
        if missing:
            return "objects_missing", "deleted outside Storeplane: " + ", ".join(missing)
        unready, failed = unready_workloads(await self.cluster.workloads(namespace))
        if failed or unready:
            seen_before = namespace in self._unready_before
            self._unready_before.add(namespace)
            if seen_before:
                return "workloads_unready", "; ".join([*failed, *unready])
            return None
        self._unready_before.discard(namespace)
        return None

    async def _present(self, namespace: str) -> set[tuple[str, str]]:
        c = self.cluster
        deployments, statefulsets, services, ingresses, claims = await asyncio.gather(
            c.apps.list_namespaced_deployment(namespace),
            c.apps.list_namespaced_stateful_set(namespace),
            c.core.list_namespaced_service(namespace),
            c.networking.list_namespaced_ingress(namespace),
            c.core.list_namespaced_persistent_volume_claim(namespace),
        )
        listings: list[tuple[str, Any]] = [
            ("Deployment", deployments),
            ("StatefulSet", statefulsets),
            ("Service", services),
            ("Ingress", ingresses),
            ("PersistentVolumeClaim", claims),
        ]
        return {(kind, item.metadata.name) for kind, listing in listings for item in listing.items}
