"""The streams' declared configuration and the NATS URL setting, for one server and for a cluster."""

from __future__ import annotations

import pytest

from infra.local.servers import ClusterMember, _nats_config
from storeplane_runtime.bus import audit_stream_config, nats_servers, stream_config
from storeplane_runtime.settings import CommonSettings


def test_a_cluster_url_lists_every_server() -> None:
    assert nats_servers("nats://127.0.0.1:4222") == ["nats://127.0.0.1:4222"]
    assert nats_servers("nats://127.0.0.1:1, nats://127.0.0.1:2,") == ["nats://127.0.0.1:1", "nats://127.0.0.1:2"]


def test_the_streams_have_the_replicas_asked_for() -> None:
    assert stream_config().num_replicas == 1
    assert stream_config(3).num_replicas == 3
    assert audit_stream_config(60, replicas=3).num_replicas == 3


def test_stream_replicas_is_a_setting_between_one_and_five(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CommonSettings().stream_replicas == 1
    monkeypatch.setenv("STOREPLANE_STREAM_REPLICAS", "3")
    assert CommonSettings().stream_replicas == 3
    monkeypatch.setenv("STOREPLANE_STREAM_REPLICAS", "0")
    with pytest.raises(ValueError, match="stream_replicas"):
        CommonSettings()


def test_a_cluster_member_routes_to_its_peers_and_syncs_every_write() -> None:
    config = _nats_config(None, ClusterMember("storeplane", 7001, (7002, 7003)), sync_always=True)
    assert "sync_interval: always" in config
    assert "listen: 127.0.0.1:7001" in config
    assert "routes: [nats-route://127.0.0.1:7002, nats-route://127.0.0.1:7003]" in config
    assert _nats_config(None, None, sync_always=False) == ""
