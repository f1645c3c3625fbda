"""The local observability backends: VictoriaMetrics (metrics, with vmui) and Jaeger v2 (traces).

Standard library only, like servers.py. Both binaries are built once from the Go module proxy
into the cache by infra/observability/build.sh. Every port is on loopback: Jaeger's own defaults
listen on every interface, so it always gets a config of ours.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.platform import wait_http
from infra.local.servers import Server, free_port, spawn, wait_for_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUILD = ROOT / "infra" / "observability" / "build.sh"
DASHBOARDS = ROOT / "infra" / "dashboards"
ALERTS = ROOT / "infra" / "alerts"


def binary(name: str) -> Path:
    """The cached `victoria-metrics` or `jaeger` binary, built first when missing (minutes, once)."""
    result = subprocess.run(["bash", str(BUILD), name], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"building {name} failed (infra/observability/build.sh {name}):\n{result.stderr[-3000:]}")
    return Path(result.stdout.strip().splitlines()[-1]) / name


# ---- VictoriaMetrics -------------------------------------------------------------------------


def scrape_config(targets: dict[str, str], *, interval: str = "5s") -> str:
    """A Prometheus `scrape_configs` file (JSON is YAML) scraping `/metrics` of each job's host:port."""
    config = {
        "global": {"scrape_interval": interval},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]} for job, target in sorted(targets.items())
        ],
    }
    return json.dumps(config, indent=2) + "\n"


def vmui_dashboard(grafana: dict[str, Any], filename: str) -> dict[str, Any]:
    """vmui's custom-dashboard form of a Grafana dashboard: its rows, each panel with its expressions
    (one source of truth: infra/dashboards/*.json)."""
    rows: list[dict[str, Any]] = []
    for panel in grafana.get("panels", []):
        if panel.get("type") == "row":
            rows.append({"title": panel.get("title", ""), "panels": []})
            continue
        if not rows:
            rows.append({"title": "", "panels": []})
        rows[-1]["panels"].append(
            {
                "title": panel.get("title", ""),
                "description": panel.get("description", ""),
                "expr": [target["expr"] for target in panel.get("targets", []) if target.get("expr")],
                "alias": [target.get("legendFormat", "") for target in panel.get("targets", []) if target.get("expr")],
                "showLegend": True,
                "width": max(1, min(12, round(panel.get("gridPos", {}).get("w", 12) / 2))),
            }
        )
    return {"title": grafana.get("title", filename), "filename": filename, "rows": rows}


def write_vmui_dashboards(target: Path, source: Path = DASHBOARDS) -> Path:
    """Every Grafana dashboard of `source` in vmui's form, into `target` (made anew)."""
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.json"):
        old.unlink()
    for path in sorted(source.glob("*.json")):
        board = vmui_dashboard(json.loads(path.read_text()), path.stem)
        (target / path.name).write_text(json.dumps(board, indent=2) + "\n")
    return target


def start_victoria_metrics(state_dir: Path, port: int | None = None, *, targets: dict[str, str]) -> Server:
    """VictoriaMetrics single-node on 127.0.0.1:`port`, scraping `targets` ({job: host:port}) every 5 s,
    vmui showing Storeplane's dashboards; its data in `state_dir`."""
    port = port or free_port()
    state_dir.mkdir(parents=True, exist_ok=True)
    config = state_dir / "scrape.json"
    config.write_text(scrape_config(targets))
    dashboards = write_vmui_dashboards(state_dir / "dashboards")
    log = state_dir / "victoria-metrics.log"
    args: list[str | Path] = [
        binary("victoria-metrics"),
        f"-storageDataPath={state_dir / 'data'}",
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-promscrape.config={config}",
        f"-vmui.customDashboardsPath={dashboards}",
        "-retentionPeriod=7d",
        # A series is searchable as soon as it is scraped, not a few seconds later (the tests ask at once).
        "-search.latencyOffset=1s",
    ]
    process = spawn(args, log)
    wait_for_port(port, process=process)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/health", timeout=30)
    return Server("victoria-metrics", url, port, process, log)


# ---- Jaeger ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JaegerPorts:
    """Jaeger's listening ports, all on 127.0.0.1: OTLP in, the query API out."""

    otlp_grpc: int = 4317
    otlp_http: int = 4318
    query_http: int = 16686
    query_grpc: int = 16685

    @classmethod
    def free(cls) -> JaegerPorts:
        return cls(free_port(), free_port(), free_port(), free_port())


def jaeger_config(ports: JaegerPorts, *, max_traces: int = 100_000) -> str:
    """Jaeger v2's configuration (an OpenTelemetry Collector's, JSON being YAML): OTLP in, memory
    storage, the query API; every endpoint on loopback, and no internal telemetry port of its own."""
    loopback = "127.0.0.1"
    config = {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": ["jaeger_storage_exporter"],
                }
            },
            "telemetry": {"metrics": {"level": "none"}, "traces": {"level": "none"}, "logs": {"level": "warn"}},
        },
        "extensions": {
            "jaeger_storage": {"backends": {"memstore": {"memory": {"max_traces": max_traces}}}},
            "jaeger_query": {
                "storage": {"traces": "memstore"},
                "http": {"endpoint": f"{loopback}:{ports.query_http}"},
                "grpc": {"endpoint": f"{loopback}:{ports.query_grpc}"},
            },
        },
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"{loopback}:{ports.otlp_grpc}"},
                    "http": {"endpoint": f"{loopback}:{ports.otlp_http}"},
                }
            }
        },
        "processors": {"batch": {"timeout": "200ms"}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "memstore"}},
    }
    return json.dumps(config, indent=2) + "\n"


def start_jaeger(state_dir: Path, ports: JaegerPorts | None = None) -> Server:
    """Jaeger v2 with its traces in memory; `url` is its query API, `extra["otlp_http"]` where spans go."""
    ports = ports or JaegerPorts.free()
    state_dir.mkdir(parents=True, exist_ok=True)
    config = state_dir / "jaeger.json"
    config.write_text(jaeger_config(ports))
    log = state_dir / "jaeger.log"
    # Jaeger would trace itself to localhost:4317 (its own default exporter): not into our traces.
    quiet = {**os.environ, "OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "none"}
    process = spawn([binary("jaeger"), f"--config=file:{config}"], log, env=quiet)
    wait_for_port(ports.query_http, process=process, timeout=60)
    wait_for_port(ports.otlp_http, process=process, timeout=60)
    url = f"http://127.0.0.1:{ports.query_http}"
    return Server("jaeger", url, ports.query_http, process, log, {"otlp_http": f"http://127.0.0.1:{ports.otlp_http}"})
