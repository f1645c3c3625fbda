"""Storeplane scaled out on one machine and broken while it works: three `nats-server`s clustered on
loopback (the STORES and AUDIT streams at three replicas, fsync before every ack), two replicas of
each service, and four users ordering 32 stores through both gateways in turn, retrying 503s and
dropped connections with the same Idempotency-Key as a real client would. Meanwhile one NATS node
is SIGKILLed and later restarted, then the node leading the STORES stream, and one replica of each
service (twice each) at random moments. Afterwards every store is `ready` exactly once with one
namespace and one Helm release, its timeline complete and in order, the read models equal a replay
of the stream, every webhook message reached the receiver, and no 202 was lost. The counts are
printed at the end. Run alone: `uv run pytest -m scale_out` (docs/reliability.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import signal
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.js.client import JetStreamContext

from infra.local.platform import SERVICES, ServiceProcess, service_env, start_service, wait_http
from infra.local.servers import NatsCluster, Server, free_port, start_nats_cluster, start_postgres, stop_process
from storeplane_contracts import subjects
from storeplane_runtime.bus import nats_servers
from tests.e2e.outages import (
    UNAVAILABLE,
    delete_namespaces,
    helm_releases,
    in_use,
    release_violations,
    replay_differences,
    resumed,
    retry_after,
    retrying,
    settled,
    store_violations,
)
from tests.integration.notifier.support import Receiver, start_receiver
from tests.jetstream_cluster import caught_up, stream_cluster, stream_leader

pytestmark = [pytest.mark.e2e, pytest.mark.scale_out]

USERS = 4
STORES_PER_USER = 8
REPLICAS = 2  # of each service
NODES = 3  # NATS servers, and the streams' replicas
# One replica of each service is SIGKILLed (and started again) twice, at random moments.
SERVICE_KILLS = [name for name in SERVICES for _ in range(2)]
DURABLES = (
    subjects.PROVISIONER_DURABLE,
    subjects.STATUS_DURABLE,
    subjects.NOTIFIER_DURABLE,
    subjects.GATEWAY_SLOTS_DURABLE,
)
SEED = random.randrange(1 << 30)


@dataclass
class ScaledPlatform:
    """A NATS cluster, a Postgres, and `REPLICAS` processes of each service, which the test breaks."""

    root: Path
    nats: NatsCluster
    postgres: Server
    env: dict[str, str]
    gateway_ports: list[int]
    services: dict[tuple[str, int], ServiceProcess] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    namespaces: list[str] = field(default_factory=list)  # the stores', removed once the platform stopped

    @property
    def gateways(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.gateway_ports]

    def start(self, name: str, index: int) -> None:
        env = {**self.env, "STOREPLANE_HTTP_PORT": str(self.gateway_ports[index])}
        self.services[name, index] = start_service(name, env, self.root / "logs" / f"{name}-{index}")

    def kill(self, name: str, index: int) -> None:
        """SIGKILL one replica and start it again, as a supervisor would."""
        self.services[name, index].kill()
        self.counts[f"{name} kills"] += 1
        self.start(name, index)


@pytest.fixture
def scaled(kubeconfig: Path, cluster_bin: Path, servers_dir: Path, tmp_path: Path) -> Iterator[ScaledPlatform]:
    root = tmp_path / "scale-out"  # its logs and NATS stores stay for a look after a failure (pytest keeps 3 runs)
    cluster = start_nats_cluster(root / "nats", NODES, monitoring=True)
    try:
        # Postgres under the session's folder, which its own user may enter.
        postgres = start_postgres(servers_dir / f"scale-out-{uuid.uuid4().hex[:6]}")
    except BaseException:
        cluster.stop()
        raise
    env = service_env(
        nats_url=cluster.url,
        database_url=postgres.url,
        kubeconfig=kubeconfig,
        helm_bin=cluster_bin / "helm",
        http_port=0,  # each gateway's own: ScaledPlatform.start
        extra=platform_settings(),
    )
    running = ScaledPlatform(root, cluster, postgres, env, [free_port() for _ in range(REPLICAS)])
    try:
        for name in SERVICES:
            for index in range(REPLICAS):
                running.start(name, index)
        for url in running.gateways:
            wait_http(f"{url}/ready", timeout=120, processes=list(running.services.values()))
        yield running
    finally:  # also when it never got ready: nothing left running
        for service in running.services.values():
            service.stop()
        cluster.stop()
        postgres.stop()
        delete_namespaces(cluster_bin, kubeconfig, running.namespaces)


def platform_settings() -> dict[str, str]:
    return {
        "STOREPLANE_STREAM_REPLICAS": str(NODES),
        "STOREPLANE_JWT_SECRET": secrets.token_urlsafe(48),
        "STOREPLANE_MAX_STORES_PER_USER": str(STORES_PER_USER),
        # Orders retried after an outage come fast, from one address: no rate limit in the way.
        "STOREPLANE_STORE_CREATES_PER_MINUTE_PER_USER": "0",
        "STOREPLANE_STORE_CREATES_PER_MINUTE_PER_ADDRESS": "0",
        "STOREPLANE_AUTH_REQUESTS_PER_MINUTE_PER_ADDRESS": "0",
        # A request whose gateway was killed frees its key and its name's reservation soon, not in two minutes.
        "STOREPLANE_IDEMPOTENCY_LEASE_SECONDS": "10",
        "STOREPLANE_SLOT_LEASE_SECONDS": "10",
        # Redeliver a killed provisioner's work quickly; never give up on a store for outages.
        "STOREPLANE_ACK_WAIT_SECONDS": "8",
        "STOREPLANE_HEARTBEAT_SECONDS": "2",
        "STOREPLANE_MAX_ATTEMPTS": "50",
        "STOREPLANE_CONCURRENCY": "3",
    }


@contextlib.asynccontextmanager
async def jetstream(cluster: NatsCluster) -> AsyncIterator[JetStreamContext]:
    """The test's own connection to the cluster (any live node), for the stream's leader and state."""
    nc = await nats.connect(nats_servers(cluster.url), max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    try:
        yield nc.jetstream(timeout=2)
    finally:
        await nc.close()


async def watch_leaders(js: JetStreamContext, counts: Counter[str]) -> None:
    """Count the STORES stream's leader elections (a new leader, or a new term of the same) until cancelled."""
    seen: tuple[str | None, Any] | None = None
    while True:
        try:
            cluster = await stream_cluster(js)
        except (TimeoutError, nats.errors.Error):  # no leader to answer for a moment: the next look sees its term
            await asyncio.sleep(0.3)
            continue
        term = (cluster.leader, cluster.leader_since)
        if seen is not None and term != seen:
            counts["leader changes"] += 1
        seen = term
        await asyncio.sleep(0.3)


async def kill_nats_node(platform: ScaledPlatform, js: JetStreamContext, rng: random.Random, *, leader: bool) -> None:
    """SIGKILL the stream leader's node (or another one), start it again a few seconds later and wait
    until it has caught up, so that the next kill leaves a quorum."""
    current = platform.nats.index_of(await stream_leader(js))
    victim = current if leader else rng.choice([i for i in range(NODES) if i != current])
    platform.nats.kill(victim)
    platform.counts["nats leader kills" if leader else "nats node kills"] += 1
    await asyncio.sleep(rng.uniform(4.0, 8.0))
    await asyncio.to_thread(platform.nats.restart, victim)
    await caught_up(js, NODES)


async def nats_faults(platform: ScaledPlatform, js: JetStreamContext, rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(3.0, 6.0))
    await kill_nats_node(platform, js, rng, leader=False)
    await asyncio.sleep(rng.uniform(2.0, 5.0))
    await kill_nats_node(platform, js, rng, leader=True)


async def service_faults(platform: ScaledPlatform, rng: random.Random) -> None:
    for name in rng.sample(SERVICE_KILLS, len(SERVICE_KILLS)):
        await asyncio.sleep(rng.uniform(2.0, 5.0))
        platform.kill(name, rng.randrange(REPLICAS))


@dataclass
class Client:
    """One user, whose requests go to the gateways in turn (as behind a load balancer)."""

    gateways: list[httpx.AsyncClient]
    counts: Counter[str]
    auth: dict[str, str] = field(default_factory=dict)
    turn: int = 0
    # Answers that left the outcome unknown (a 503, a connection refused or cut): an order may be stored.
    unsure: int = 0

    async def once(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One try on the next gateway; a connection that fails is a 599."""
        self.turn += 1
        http = self.gateways[self.turn % len(self.gateways)]
        try:
            response = await http.request(method, path, headers={**self.auth, **options.pop("headers", {})}, **options)
        except httpx.TransportError:
            response = httpx.Response(599)
        if response.status_code in UNAVAILABLE:
            self.unsure += 1
            self.counts[f"answered {response.status_code}, retried"] += 1
        return response

    async def call(self, method: str, path: str, **options: Any) -> httpx.Response:
        # A NATS node and then the leader's are killed and restarted under this client: an order may wait out
        # both elections and catch-ups (one CI run met 120 s of 503s), so it waits longer than the fault test.
        return await retrying(self.once, method, path, patience=300, **options)


@dataclass(frozen=True)
class Order:
    """An order the client knows was accepted, and how it knows."""

    user: int
    store_id: str
    namespace: str


async def register(client: Client) -> None:
    """Sign a new user up; the client acts as that user from now on."""
    email = f"scale-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "correct horse battery"}
    registered = await client.call("POST", "/api/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    client.auth = {"Authorization": f"Bearer {registered.json()['token']}"}


async def listed(client: Client) -> list[dict[str, Any]]:
    response = await client.call("GET", "/api/v1/stores")
    assert response.status_code == 200, response.text
    return list(response.json()["stores"])


async def order_store(client: Client, user: int, name: str) -> Order:
    """Order until the store is known accepted: a 202 (perhaps replayed), or, after an answer that left it
    unknown, its name held by a store of our own (the first try was stored, its answer lost)."""
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"name": name, "engine": "woocommerce"}
    unsure = client.unsure
    async with asyncio.timeout(180):
        while True:
            answer = await client.call("POST", "/api/v1/stores", headers=headers, json=body)
            if answer.status_code == 202:
                client.counts["answered 202"] += 1
                return Order(user, answer.json()["id"], answer.json()["namespace"])
            if answer.status_code == 409 and answer.json()["error"]["code"] == "name_taken" and client.unsure > unsure:
                ours = [s for s in await listed(client) if s["name"] == name]
                if ours:
                    client.counts["accepted, answer lost"] += 1
                    return Order(user, ours[0]["id"], ours[0]["namespace"])
            elif not in_use(answer):
                pytest.fail(f"ordering {name}: {answer.status_code} {answer.text}")
            await asyncio.sleep(retry_after(answer, 1.0))


async def order_stores(client: Client, user: int, rng: random.Random) -> list[Order]:
    orders = []
    for index in range(STORES_PER_USER):
        orders.append(await order_store(client, user, f"scale-{user}-{index}-{uuid.uuid4().hex[:4]}"))
        await asyncio.sleep(rng.uniform(0.5, 2.0))
    return orders


async def subscribe_webhook(client: Client, port: int) -> str:
    """A webhook endpoint of the user's for every event, to the test's receiver; returns its secret."""
    made = await client.call(
        "POST", "/api/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/hooks", "events": ["*"]}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["secret"])


@dataclass
class Outcome:
    """What the test saw once every store settled."""

    final: dict[str, dict[str, Any]]
    timelines: dict[str, list[dict[str, Any]]]
    listed: dict[int, set[str]]


async def outcome(clients: list[Client], orders: list[Order]) -> Outcome:
    final, timelines = {}, {}
    for order in orders:
        client = clients[order.user]
        final[order.store_id] = await settled(client.gateways[0], client.auth, order.store_id)
        events = await client.call("GET", f"/api/v1/stores/{order.store_id}/events")
        timelines[order.store_id] = list(events.json()["events"])
    users = {user: {s["id"] for s in await listed(client)} for user, client in enumerate(clients)}
    return Outcome(final, timelines, users)


def listing_violations(found: Outcome, orders: list[Order]) -> list[str]:
    """Each user's stores against the orders the client knows accepted: none lost, none unknown."""
    violations = []
    for user, ids in found.listed.items():
        known = {order.store_id for order in orders if order.user == user}
        if ids != known:
            violations.append(f"user {user}: stores {sorted(ids)}, known accepted {sorted(known)}")
    return violations


async def webhook_violations(
    receiver: Receiver, timelines: dict[str, list[dict[str, Any]]], counts: Counter[str]
) -> list[str]:
    """Every timeline event reached the receiver (at least once, signed); counts the messages sent again."""
    wanted = {event["event_id"] for events in timelines.values() for event in events}
    async with asyncio.timeout(120):
        while True:
            got = receiver.received()
            arrived = {r["body"]["data"].get("event_id") for r in got if isinstance(r["body"], dict)}
            if wanted <= arrived:
                break
            await asyncio.sleep(0.5)
    ids = Counter(r["id"] for r in got)
    counts["webhook messages"] = len(ids)
    counts["webhook redeliveries"] = sum(n - 1 for n in ids.values())
    return [f"webhook {r['id']} not verified" for r in got if not any(r["verified"])]


async def namespace_violations(cluster_bin: Path, kubeconfig: Path, orders: list[Order]) -> list[str]:
    """Each store has exactly one namespace (labelled with its id), the one its order was given."""
    process = await asyncio.create_subprocess_exec(
        str(cluster_bin / "kubectl"),
        "--kubeconfig",
        str(kubeconfig),
        "get",
        "namespaces",
        "--selector",
        "storeplane.io/store-id",
        "--output",
        "json",
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate()
    by_store: dict[str, list[str]] = {}
    for item in json.loads(output)["items"]:
        store_id = item["metadata"]["labels"]["storeplane.io/store-id"]
        by_store.setdefault(store_id, []).append(item["metadata"]["name"])
    return [
        f"{order.store_id}: namespaces {by_store.get(order.store_id)}"
        for order in orders
        if by_store.get(order.store_id) != [order.namespace]
    ]


def varz(node: Server) -> dict[str, Any]:
    """nats-server's own description of itself, from its monitoring endpoint."""
    with urllib.request.urlopen(node.extra["monitoring_url"] + "/varz", timeout=5) as answer:
        return dict(json.load(answer))


async def cluster_violations(platform: ScaledPlatform, js: JetStreamContext) -> list[str]:
    """The durability this test is about: three replicas of each stream and durable, fsync on every write."""
    violations = []
    for stream in (subjects.STREAM, subjects.AUDIT_STREAM):
        if (replicas := (await js.stream_info(stream)).config.num_replicas) != NODES:
            violations.append(f"stream {stream} has {replicas} replicas")
    for durable in DURABLES:
        info = await js.consumer_info(subjects.STREAM, durable)
        if info.cluster is None or len(info.cluster.replicas or []) != NODES - 1:
            violations.append(f"durable {durable} is not on {NODES} servers: {info.cluster}")
    for node in platform.nats.nodes:
        if not (await asyncio.to_thread(varz, node))["jetstream"]["config"].get("sync_always"):
            violations.append(f"{node.url}: JetStream does not sync every write")
    return violations


async def test_a_scaled_out_platform_loses_nothing_when_nodes_and_replicas_die(
    scaled: ScaledPlatform, kubeconfig: Path, cluster_bin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    counts = scaled.counts
    async with contextlib.AsyncExitStack() as stack:
        gateways = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30)) for url in scaled.gateways
        ]
        js = await stack.enter_async_context(jetstream(scaled.nats))
        clients = [Client(gateways, counts) for _ in range(USERS)]
        for client in clients:
            await register(client)
        port = free_port()
        receiver = start_receiver(
            tmp_path / "received.jsonl", [await subscribe_webhook(c, port) for c in clients], port=port
        )
        stack.callback(stop_process, receiver.process, signal.SIGKILL, 0)
        leaders = asyncio.create_task(watch_leaders(js, counts))
        faults = asyncio.gather(nats_faults(scaled, js, rng), service_faults(scaled, rng))
        placed = await asyncio.gather(*(order_stores(client, user, rng) for user, client in enumerate(clients)))
        await faults
        orders = [order for user_orders in placed for order in user_orders]
        scaled.namespaces += [order.namespace for order in orders]
        try:
            async with asyncio.timeout(300):
                found = await outcome(clients, orders)
        except TimeoutError:
            statuses = Counter([s["status"] for c in clients for s in await listed(c)])
            pytest.fail(f"stores not settled within 5 minutes (seed {SEED}): {dict(statuses)}, {dict(counts)}")
        if leaders.done():
            leaders.result()  # the watch died: its count would be too low, so say why
        leaders.cancel()

        violations = [
            v for store_id, store in found.final.items() for v in store_violations(store, found.timelines[store_id])
        ]
        violations += listing_violations(found, orders)
        violations += await namespace_violations(cluster_bin, kubeconfig, orders)
        violations += release_violations(await helm_releases(cluster_bin, kubeconfig, [o.namespace for o in orders]))
        violations += await webhook_violations(receiver, found.timelines, counts)
        violations += await cluster_violations(scaled, js)
        violations += await replay_differences(scaled.nats.url, scaled.postgres.url)
        if counts["leader changes"] < counts["nats leader kills"]:  # a killed leader's stream elects another
            violations.append(f"{counts['nats leader kills']} leader kills, {counts['leader changes']} elections seen")

    counts["stores"] = len(orders)
    counts["stores ready"] = sum(store["status"] == "ready" for store in found.final.values())
    counts["stores resumed"], counts["redeliveries"] = resumed(found.timelines)
    counts["violations"] = len(violations)
    with capsys.disabled():
        print(f"\nscale-out (seed {SEED}): " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    assert not violations, violations
    assert len(orders) == USERS * STORES_PER_USER
