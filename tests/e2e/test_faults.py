"""Nothing lost, nothing doubled, whatever crashes: 30 stores are requested through the API while
the provisioner, the status service and NATS are SIGKILLed (20 times) at random moments and
Postgres restarts. Afterwards every accepted store is `ready` (a store failed is a violation), has exactly
one namespace and one Helm release, a timeline without duplicates, and read models equal to a
replay of the stream. The counts are printed at the end."""

from __future__ import annotations

import asyncio
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
from tests.e2e.outages import (
    delete_namespaces,
    helm_releases,
    ordering,
    release_violations,
    replay_differences,
    resumed,
    retrying,
    settled,
    store_violations,
)

pytestmark = pytest.mark.e2e

STORES = 30
# 20 SIGKILLs and 3 Postgres restarts, one every 1.5 to 3.5 seconds in a seeded order, while the stores
# are ordered and provisioned.
FAULTS = ["kill provisioner"] * 11 + ["kill status"] * 6 + ["kill nats"] * 3 + ["restart postgres"] * 3
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
    namespaces: list[str] = field(default_factory=list)  # the stores', removed once the platform stopped

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.env['STOREPLANE_HTTP_PORT']}"

    def start(self, name: str) -> None:
        self.services[name] = start_service(name, self.env, self.root / "logs")

    def kill(self, name: str) -> None:
        self.services[name].kill()
        self.counts[f"{name} kills"] += 1
        self.start(name)

    def kill_nats(self) -> None:
        """SIGKILL NATS and start it again on its store: what it acknowledged must survive the crash."""
        self.nats.kill()
        self.nats = start_nats(self.root / "nats", self.nats.port)
        self.counts["nats kills"] += 1

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
    try:
        for name in SERVICES:
            running.start(name)
        # Two minutes: on a loaded machine the gateway has taken more than one to be ready.
        wait_http(f"{running.api}/ready", timeout=120, processes=list(running.services.values()))
        yield running
    finally:  # also when it never got ready: nothing left running
        for service in running.services.values():
            service.stop()
        running.nats.stop()
        running.postgres.stop()
        delete_namespaces(cluster_bin, kubeconfig, running.namespaces)


async def inject_faults(platform: Platform) -> None:
    rng = random.Random(SEED)
    for fault in rng.sample(FAULTS, len(FAULTS)):
        await asyncio.sleep(rng.uniform(1.5, 3.5))
        if fault == "kill provisioner":
            platform.kill("provisioner")
        elif fault == "kill status":
            platform.kill("status")
        elif fault == "kill nats":
            await asyncio.to_thread(platform.kill_nats)
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


def listing_violations(listed: list[dict[str, Any]], orders: dict[str, Order]) -> list[str]:
    """The user's store list against the stores accepted."""
    if sorted(store["id"] for store in listed) == sorted(orders):
        return []
    return [f"the user has stores {[store['name'] for store in listed]}, ordered {len(orders)}"]


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
    violations += await replay_differences(platform.nats.url, platform.postgres.url)
    platform.namespaces = namespaces

    platform.counts["stores ready"] = sum(s["status"] == "ready" for s in final.values())
    # Stores whose provisioning was interrupted and resumed on redelivery.
    platform.counts["stores resumed"], platform.counts["redeliveries"] = resumed(timelines)
    platform.counts["violations"] = len(violations)
    with capsys.disabled():
        print(f"\nfault injection (seed {SEED}): " + ", ".join(f"{k}: {v}" for k, v in sorted(platform.counts.items())))
    assert not violations, violations
    assert platform.counts["stores accepted"] == STORES
