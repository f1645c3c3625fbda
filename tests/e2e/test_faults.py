"""Nothing lost, nothing doubled, whatever crashes: stores are requested through the API while
the provisioner and the status service are SIGKILLed at random moments and NATS and Postgres
restart. Afterwards every accepted store is `ready` (or `failed` with a reason), has exactly
one namespace and one Helm release, a timeline without duplicates, and read models equal to a
replay of the stream. The counts are printed at the end."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.local.platform import SERVICES, ServiceProcess, service_env, start_service, wait_http
from infra.local.servers import Server, free_port, start_nats, start_postgres
from storeplane_status.replaying import differences, ensure_database, replay, snapshot
from tests.steps import PROVISIONING_STEPS

pytestmark = pytest.mark.e2e

STORES = 6
# Timeline entries each attempt adds: the attempt's start, and the note that a step will be retried.
PER_ATTEMPT = ("ProvisioningStarted", "StepRetrying")
FAULTS = [
    "kill provisioner",
    "kill status",
    "kill provisioner",
    "restart nats",
    "kill provisioner",
    "restart postgres",
    "kill status",
    "kill provisioner",
]
SEED = random.randrange(1 << 30)


@dataclass
class Platform:
    """Servers and services of one isolated platform, which the test breaks on purpose."""

    root: Path
    nats: Server
    postgres: Server
    env: dict[str, str]
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.env['STOREPLANE_HTTP_PORT']}"

    def start(self, name: str) -> None:
        self.services[name] = start_service(name, self.env, self.root / "logs")

    def kill(self, name: str) -> None:
        self.services[name].kill()
        self.counts[f"{name} kills"] += 1
        self.start(name)

    def restart_nats(self) -> None:
        self.nats.stop()
        self.nats = start_nats(self.root / "nats", self.nats.port)
        self.counts["nats restarts"] += 1

    def restart_postgres(self) -> None:
        self.postgres.stop()
        self.postgres = start_postgres(self.root / "postgres", self.postgres.port)
        self.counts["postgres restarts"] += 1


@pytest.fixture
def platform(kubeconfig: Path, cluster_bin: Path, servers_dir: Path) -> Iterator[Platform]:
    root = servers_dir / f"faults-{uuid.uuid4().hex[:6]}"  # readable by Postgres' own user
    nats = start_nats(root / "nats", free_port())
    try:
        postgres = start_postgres(root / "postgres")
    except BaseException:
        nats.stop()
        raise
    env = service_env(
        nats_url=nats.url,
        database_url=postgres.url,
        kubeconfig=kubeconfig,
        helm_bin=cluster_bin / "helm",
        http_port=free_port(),
        extra={
            "STOREPLANE_JWT_SECRET": secrets.token_urlsafe(48),
            # One user orders all the stores, more than the default quota of live stores allows.
            "STOREPLANE_MAX_STORES_PER_USER": str(STORES),
            # Each order is sent three times (twice at once, once more later), and again while its twin is in
            # flight: no rate limit in the way.
            "STOREPLANE_STORE_CREATES_PER_MINUTE_PER_USER": "0",
            "STOREPLANE_STORE_CREATES_PER_MINUTE_PER_ADDRESS": "0",
            # Redeliver a killed provisioner's work quickly; never give up on a store for outages.
            "STOREPLANE_ACK_WAIT_SECONDS": "8",
            "STOREPLANE_HEARTBEAT_SECONDS": "2",
            "STOREPLANE_MAX_ATTEMPTS": "50",
            "STOREPLANE_CONCURRENCY": "3",
        },
    )
    running = Platform(root, nats, postgres, env)
    for name in SERVICES:
        running.start(name)
    wait_http(f"{running.api}/ready", timeout=60, processes=list(running.services.values()))
    yield running
    for service in running.services.values():
        service.stop()
    running.nats.stop()
    running.postgres.stop()


async def retrying(call: Any, *args: Any, **kwargs: Any) -> httpx.Response:
    """Call the API until it answers with something other than a 503 (a dependency restarting)."""
    async with asyncio.timeout(120):
        while True:
            try:
                response: httpx.Response = await call(*args, **kwargs)
            except httpx.TransportError:
                response = httpx.Response(599)
            if response.status_code not in (503, 599):
                return response
            await asyncio.sleep(0.5)


async def ordering(
    http: httpx.AsyncClient, headers: dict[str, str], body: dict[str, str], counts: Counter[str]
) -> httpx.Response:
    """Order a store, retrying with the same key while the platform restarts or the twin request runs."""
    async with asyncio.timeout(120):
        while True:
            response = await retrying(http.post, "/api/v1/stores", headers=headers, json=body)
            if response.status_code != 409 or response.json()["error"]["code"] != "idempotency_key_in_use":
                counts["replayed answers"] += response.headers.get("idempotent-replayed") == "true"
                return response
            counts["answered in use"] += 1
            await asyncio.sleep(float(response.headers["retry-after"]))


async def inject_faults(platform: Platform) -> None:
    rng = random.Random(SEED)
    for fault in FAULTS:
        await asyncio.sleep(rng.uniform(1.5, 4.0))
        if fault == "kill provisioner":
            platform.kill("provisioner")
        elif fault == "kill status":
            platform.kill("status")
        elif fault == "restart nats":
            await asyncio.to_thread(platform.restart_nats)
        else:
            await asyncio.to_thread(platform.restart_postgres)


@dataclass
class Order:
    """One accepted order: what was sent, and the namespace its store was given."""

    headers: dict[str, str]
    body: dict[str, str]
    namespace: str


async def register(http: httpx.AsyncClient) -> dict[str, str]:
    """A new user's authorization header."""
    email = f"faults-{uuid.uuid4().hex[:6]}@example.com"
    registered = await retrying(
        http.post, "/api/v1/auth/register", json={"email": email, "password": "correct horse battery"}
    )
    return {"Authorization": f"Bearer {registered.json()['token']}"}


async def order_every_store_twice(
    http: httpx.AsyncClient, auth: dict[str, str], counts: Counter[str]
) -> dict[str, Order]:
    """Order each store twice at once, as a client retrying a request it thinks was lost would."""
    orders: dict[str, Order] = {}
    for index in range(STORES):
        headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
        body = {"name": f"fault-shop-{index}", "engine": "woocommerce"}
        answers = await asyncio.gather(*(ordering(http, headers, body, counts) for _ in range(2)))
        counts["duplicate requests"] += 1
        for created in answers:
            assert created.status_code == 202, created.text
        store_ids = {created.json()["id"] for created in answers}
        if len(store_ids) != 1:
            pytest.fail(f"one order with one key became stores {store_ids}")
        orders[answers[0].json()["id"]] = Order(headers, body, answers[0].json()["namespace"])
        counts["stores accepted"] += 1
        await asyncio.sleep(1.0)
    return orders


async def order_again(http: httpx.AsyncClient, orders: dict[str, Order], counts: Counter[str]) -> None:
    """Send every order again after the outages: the stored answer, nothing new."""
    for store_id, order in orders.items():
        again = await ordering(http, order.headers, order.body, counts)
        assert again.status_code == 202 and again.json()["id"] == store_id, again.text
        assert again.headers["idempotent-replayed"] == "true"


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
    # Every step once, in order, none missing; an attempt's start and a retry note may repeat.
    steps = [e["type"] for e in events if e["type"] not in PER_ATTEMPT]
    if steps != [step for step in PROVISIONING_STEPS if step not in PER_ATTEMPT]:
        violations.append(f"{store['name']}: steps repeated, missing or out of order: {steps}")
    return violations


def listing_violations(listed: list[dict[str, Any]], orders: dict[str, Order]) -> list[str]:
    """The user's store list against the stores accepted."""
    if sorted(store["id"] for store in listed) == sorted(orders):
        return []
    return [f"the user has stores {[store['name'] for store in listed]}, ordered {len(orders)}"]


def release_violations(releases: dict[str, list[Any]]) -> list[str]:
    """Namespaces without exactly one deployed Helm release."""
    return [
        f"{namespace}: releases {found}"
        for namespace, found in releases.items()
        if [r["status"] for r in found] != ["deployed"]
    ]


async def replay_differences(platform: Platform) -> list[str]:
    """Where the read models differ from a replay of the stream into a fresh database."""
    replay_url = platform.postgres.url.rsplit("/", 1)[0] + "/storeplane_replay"
    await ensure_database(replay_url)
    await replay(platform.nats.url, replay_url)
    return differences(await snapshot(platform.postgres.url), await snapshot(replay_url))


async def test_every_accepted_store_ends_ready_exactly_once_through_crashes(
    platform: Platform, kubeconfig: Path, cluster_bin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.api, timeout=30) as http:
        auth = await register(http)
        faults = asyncio.create_task(inject_faults(platform))
        orders = await order_every_store_twice(http, auth, platform.counts)
        await faults
        await order_again(http, orders, platform.counts)
        final = {store_id: await settled(http, auth, store_id) for store_id in orders}
        timelines = {
            store_id: (await retrying(http.get, f"/api/v1/stores/{store_id}/events", headers=auth)).json()["events"]
            for store_id in orders
        }
        listed = (await retrying(http.get, "/api/v1/stores", headers=auth)).json()["stores"]

    violations = [v for store_id, store in final.items() for v in store_violations(store, timelines[store_id])]
    violations += listing_violations(listed, orders)
    namespaces = [order.namespace for order in orders.values()]
    violations += release_violations(await helm_releases(cluster_bin, kubeconfig, namespaces))
    violations += await replay_differences(platform)

    platform.counts["stores ready"] = sum(s["status"] == "ready" for s in final.values())
    # Stores whose provisioning was interrupted and resumed on redelivery.
    platform.counts["stores resumed"] = sum(
        [e["type"] for e in events].count("ProvisioningStarted") > 1 for events in timelines.values()
    )
    platform.counts["violations"] = len(violations)
    with capsys.disabled():
        print(f"\nfault injection (seed {SEED}): " + ", ".join(f"{k}: {v}" for k, v in sorted(platform.counts.items())))
    assert not violations, violations
    assert platform.counts["stores accepted"] == STORES


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
