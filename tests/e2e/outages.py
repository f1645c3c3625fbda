"""What the fault tests share (test_faults.py on one NATS server, test_scale_out.py on a cluster): a
client that retries as a real one would while the platform breaks, and the checks of what is left
afterwards (every store ready once, its timeline in order, one Helm release per namespace)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from storeplane_status.replaying import differences, ensure_database, replay, snapshot
from tests.steps import PROVISIONING_STEPS

# Timeline entries each attempt adds: the attempt's start, and the note that a step will be retried.
PER_ATTEMPT = ("ProvisioningStarted", "StepRetrying")
# Notes that may come between steps, as often as they are true: a step running long (a busy machine).
NOTES = (*PER_ATTEMPT, "StepStalled")
# Answers a client retries: the platform (or a dependency) is restarting, or nothing answered at all.
UNAVAILABLE = (503, 599)
# A Retry-After above this is waited for only this long: the test's outages are short.
MAX_RETRY_AFTER = 5.0


def retry_after(response: httpx.Response, default: float = 0.5) -> float:
    """How long the answer asks the client to wait before it tries again."""
    try:
        return min(float(response.headers.get("retry-after", default)), MAX_RETRY_AFTER)
    except ValueError:
        return default


async def retrying(call: Any, *args: Any, patience: float = 120, **kwargs: Any) -> httpx.Response:
    """Call the API until it answers with something other than a 503 (a dependency restarting), waiting
    as long as its Retry-After says; a connection refused or cut is answered as 599 and retried too.
    Unavailable for longer than `patience` seconds fails the test with the last answer."""
    response = httpx.Response(599)
    try:
        async with asyncio.timeout(patience):
            while True:
                try:
                    response = await call(*args, **kwargs)
                except httpx.TransportError:
                    response = httpx.Response(599)
                if response.status_code not in UNAVAILABLE:
                    return response
                await asyncio.sleep(retry_after(response))
    except TimeoutError:
        raise AssertionError(
            f"unavailable for {patience:.0f} s; the last answer: {response.status_code} {response.text[:300]}"
        ) from None


def in_use(response: httpx.Response) -> bool:
    """The same Idempotency-Key's first request is still running (or its gateway died)."""
    return response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_in_use"


async def ordering(
    http: httpx.AsyncClient, headers: dict[str, str], body: dict[str, str], counts: Counter[str]
) -> httpx.Response:
    """Order a store, retrying with the same key while the platform restarts or the twin request runs."""
    async with asyncio.timeout(120):
        while True:
            response = await retrying(http.post, "/api/v1/stores", headers=headers, json=body)
            if not in_use(response):
                counts["replayed answers"] += response.headers.get("idempotent-replayed") == "true"
                return response
            counts["answered in use"] += 1
            await asyncio.sleep(retry_after(response))


async def settled(http: httpx.AsyncClient, auth: dict[str, str], store_id: str) -> dict[str, Any]:
    """The store once it is `ready` or `failed`."""
    async with asyncio.timeout(300):
        while True:
            response = await retrying(http.get, f"/api/v1/stores/{store_id}", headers=auth)
            assert response.status_code == 200, response.text
            if response.json()["status"] in ("ready", "failed"):
                return dict(response.json())
            await asyncio.sleep(1.0)


def store_violations(store: dict[str, Any], events: list[dict[str, Any]]) -> list[str]:
    """What is wrong with one settled store and its timeline."""
    violations: list[str] = []
    if store["status"] != "ready":
        violations.append(f"{store['name']} {store['status']}: {store['error']}")
    ids = [e["event_id"] for e in events]
    if len(ids) != len(set(ids)):
        violations.append(f"{store['name']}: duplicate timeline entries")
    sequences = [e["sequence"] for e in events]
    if sequences != sorted(sequences):
        violations.append(f"{store['name']}: timeline not in stream order: {sequences}")
    # Every step once (one StoreReady), in order, none missing; an attempt's start and a note may repeat.
    steps = [e["type"] for e in events if e["type"] not in NOTES]
    if steps != [step for step in PROVISIONING_STEPS if step not in NOTES]:
        violations.append(f"{store['name']}: steps repeated, missing or out of order: {steps}")
    return violations


def resumed(timelines: dict[str, list[dict[str, Any]]]) -> tuple[int, int]:
    """How many stores' provisioning was interrupted and resumed on redelivery, and how many
    redeliveries (attempts after the first) that took."""
    starts = [[e["type"] for e in events].count("ProvisioningStarted") for events in timelines.values()]
    return sum(n > 1 for n in starts), sum(max(n - 1, 0) for n in starts)


async def replay_differences(nats_url: str, database_url: str) -> list[str]:
    """Where the read models in `database_url` differ from a replay of the stream into a fresh database."""
    replay_url = database_url.rsplit("/", 1)[0] + "/storeplane_replay"
    await ensure_database(replay_url)
    await replay(nats_url, replay_url)
    return differences(await snapshot(database_url), await snapshot(replay_url))


def release_violations(releases: dict[str, list[Any]]) -> list[str]:
    """Namespaces without exactly one deployed Helm release."""
    return [
        f"{namespace}: releases {found}"
        for namespace, found in releases.items()
        if [r["status"] for r in found] != ["deployed"]
    ]


async def helm_releases(cluster_bin: Path, kubeconfig: Path, namespaces: list[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for namespace in namespaces:
        process = await asyncio.create_subprocess_exec(
            str(cluster_bin / "helm"),
            "list",
            "--all",
            "--namespace",
            namespace,
            "--output",
            "json",
            "--kubeconfig",
            str(kubeconfig),
            stdout=asyncio.subprocess.PIPE,
        )
        output, _ = await process.communicate()
        found[namespace] = json.loads(output or b"[]")
    return found


def delete_namespaces(cluster_bin: Path, kubeconfig: Path, namespaces: list[str]) -> None:
    """Give the shared cluster its room back once a test's platform is stopped (so that no drift check
    repairs what is removed): the stores' pods count against the simulated nodes' capacity, which other
    tests share. The deletion runs on in the background."""
    if namespaces:
        command = [str(cluster_bin / "kubectl"), "--kubeconfig", str(kubeconfig), "delete", "namespace"]
        subprocess.run([*command, "--wait=false", "--ignore-not-found", *namespaces], capture_output=True, check=False)
