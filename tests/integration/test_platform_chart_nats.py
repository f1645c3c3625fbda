"""The platform chart's own NATS configuration runs a JetStream cluster: the ConfigMap's nats.conf
and the users Secret's auth.conf, as `helm template` renders them, started as three real
nats-server processes on loopback (only the addresses moved from the pods' to 127.0.0.1). The
peers form one cluster, every one fsyncs each write (`sync_always`), and the services' users create
the STORES stream at three replicas, all current. (kwok runs no containers: this is where the
chart's NATS really runs.)"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml

from infra.local.servers import free_port, nats_server_binary, spawn, stop_process, wait_for_port
from storeplane_contracts import subjects
from storeplane_runtime.bus import stream_config
from tests.unit.charts.conftest import PLATFORM_CHART

pytestmark = pytest.mark.integration

PEERS = 3


@dataclasses.dataclass(frozen=True)
class Peer:
    """One nats-server of the cluster: its client and monitoring ports."""

    name: str
    client_port: int
    monitoring_port: int

    def monitoring(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitoring_port}{path}", timeout=5) as answer:
            found: dict[str, Any] = json.load(answer)
            return found


def rendered(cluster_bin: Path) -> tuple[str, dict[str, str]]:
    """The chart's nats.conf and its users' passwords (and auth.conf) from the users Secret."""
    out = subprocess.run(
        [str(cluster_bin / "helm"), "template", "sp", str(PLATFORM_CHART), "--namespace", "storeplane"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    objects = [o for o in yaml.safe_load_all(out) if o]
    [config] = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "sp-nats"]
    [users] = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "storeplane-nats-users"]
    return config["data"]["nats.conf"], {k: base64.b64decode(v).decode() for k, v in users["data"].items()}


def on_loopback(conf: str, folder: Path, ports: tuple[int, int, int], routes: list[int]) -> str:
    """The pod's configuration with its addresses on loopback and its files in `folder`."""
    client, monitoring, route = ports
    moved = {
        '"0.0.0.0:4222"': f'"127.0.0.1:{client}"',
        '"0.0.0.0:8222"': f'"127.0.0.1:{monitoring}"',
        '"0.0.0.0:6222"': f'"127.0.0.1:{route}"',
        'store_dir: "/data"': f'store_dir: "{folder / "data"}"',
        '"/var/run/nats/nats.pid"': f'"{folder / "nats.pid"}"',
    }
    for pod, local in moved.items():
        assert pod in conf, pod
        conf = conf.replace(pod, local)
    for index, port in enumerate(routes):
        peer = f'"nats://sp-nats-{index}.sp-nats-headless.storeplane.svc:6222"'
        assert peer in conf, peer
        conf = conf.replace(peer, f'"nats://127.0.0.1:{port}"')
    return conf


@pytest.fixture(scope="module")
def cluster(cluster_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Peer], dict[str, str]]]:
    conf, secret = rendered(cluster_bin)
    ports = [(free_port(), free_port(), free_port()) for _ in range(PEERS)]
    routes = [route for _, _, route in ports]
    peers, processes = [], []
    try:
        for index, peer_ports in enumerate(ports):
            folder = tmp_path_factory.mktemp(f"nats-{index}")
            (folder / "auth.conf").write_text(secret["auth.conf"])
            (folder / "nats.conf").write_text(on_loopback(conf, folder, peer_ports, routes))
            name = f"sp-nats-{index}"
            env = {**os.environ, "SERVER_NAME": name}
            processes.append(spawn([nats_server_binary(), "--config", folder / "nats.conf"], folder / "log", env=env))
            peers.append(Peer(name, peer_ports[0], peer_ports[1]))
        for peer, process in zip(peers, processes, strict=True):
            wait_for_port(peer.client_port, process=process)
        yield peers, secret
    finally:
        for process in processes:
            stop_process(process, signal.SIGINT, 10)


def test_the_peers_form_one_cluster_that_fsyncs_every_write(cluster: tuple[list[Peer], dict[str, str]]) -> None:
    peers, _ = cluster
    deadline = time.monotonic() + 60
    while (routed := [len(peer.monitoring("/routez")["routes"]) > 0 for peer in peers]) != [True] * PEERS:
        assert time.monotonic() < deadline, routed
        time.sleep(0.5)
    for peer in peers:
        varz = peer.monitoring("/varz")
        assert varz["server_name"] == peer.name
        assert varz["cluster"]["name"] == "storeplane"
        assert varz["jetstream"]["config"]["sync_always"] is True, peer.name
    while True:  # a meta leader once a quorum of peers agree
        meta = peers[0].monitoring("/jsz").get("meta_cluster", {})
        if meta.get("leader") and meta.get("cluster_size") == PEERS:
            break
        assert time.monotonic() < deadline, meta
        time.sleep(0.5)


async def test_a_service_user_creates_the_stores_stream_at_three_replicas(
    cluster: tuple[list[Peer], dict[str, str]],
) -> None:
    peers, secret = cluster
    urls = [f"nats://127.0.0.1:{peer.client_port}" for peer in peers]
    client = await nats.connect(urls, user="gateway", password=secret["gateway"], inbox_prefix=b"_INBOX.gateway")
    try:
        js = client.jetstream()
        config = stream_config(PEERS)
        deadline = time.monotonic() + 60
        while True:  # JetStream answers once its meta group has a leader
            try:
                await js.add_stream(config)
                break
            except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError):
                assert time.monotonic() < deadline, "JetStream never became available"
                await asyncio.sleep(0.5)
        ack = await js.publish(f"stores.{uuid.uuid4()}.store_requested", b"{}")
        assert ack.stream == subjects.STREAM
        while True:
            info = await js.stream_info(subjects.STREAM)
            replicas = info.cluster.replicas if info.cluster and info.cluster.replicas else []
            if info.cluster and info.cluster.leader and len(replicas) == PEERS - 1 and all(r.current for r in replicas):
                break
            assert time.monotonic() < deadline, info.cluster
            await asyncio.sleep(0.5)
        assert info.config.num_replicas == PEERS and info.state.messages >= 1
        assert re.fullmatch(r"sp-nats-\d", info.cluster.leader or "")
    finally:
        await client.close()
