"""The Grafana dashboards (infra/dashboards/) and what `make up` derives from them: vmui's custom dashboards,
the scrape configuration and Jaeger's configuration, every listener on loopback."""

from __future__ import annotations

import json

from infra.local.observability import JaegerPorts, jaeger_config, scrape_config, vmui_dashboard
from tests.observability_expressions import dashboard_expressions, dashboards


def test_the_five_dashboards_exist_with_a_datasource_variable() -> None:
    boards = dashboards()
    assert set(boards) == {"api", "provisioning", "bus", "databases", "webhooks"}
    for name, board in boards.items():
        assert board["uid"] == f"storeplane-{name}" and board["title"].startswith("Storeplane: ")
        assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
        panels = [p for p in board["panels"] if p["type"] != "row"]
        assert panels and all(p["targets"] and p["description"] for p in panels), name


def test_no_expression_labels_by_store_id() -> None:
    for where, expr in dashboard_expressions():
        assert "store_id" not in expr and "namespace" not in expr, where


def test_vmui_gets_every_panel_expression() -> None:
    for name, board in dashboards().items():
        vmui = vmui_dashboard(board, name)
        assert vmui["title"] == board["title"] and vmui["filename"] == name
        exprs = [e for row in vmui["rows"] for panel in row["panels"] for e in panel["expr"]]
        wanted = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
        assert exprs == wanted
        assert all(1 <= panel["width"] <= 12 for row in vmui["rows"] for panel in row["panels"])


def test_scrape_config_names_each_job() -> None:
    config = json.loads(scrape_config({"gateway": "127.0.0.1:8080", "status": "127.0.0.1:9104"}))
    jobs = {c["job_name"]: c["static_configs"][0]["targets"] for c in config["scrape_configs"]}
    assert jobs == {"gateway": ["127.0.0.1:8080"], "status": ["127.0.0.1:9104"]}


def test_jaeger_listens_on_loopback_only() -> None:
    config = json.loads(jaeger_config(JaegerPorts(1, 2, 3, 4)))
    query = config["extensions"]["jaeger_query"]
    protocols = config["receivers"]["otlp"]["protocols"]
    endpoints = [query["http"]["endpoint"], query["grpc"]["endpoint"], *(p["endpoint"] for p in protocols.values())]
    assert sorted(endpoints) == ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"]
    assert config["extensions"]["jaeger_storage"]["backends"]["memstore"]["memory"]["max_traces"] > 0
    assert config["service"]["telemetry"]["metrics"] == {"level": "none"}  # no internal port on every interface
