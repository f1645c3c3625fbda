"""The screenshots in docs/observability.md, taken again: `uv run python -m infra.observability.screenshots`.

It starts a platform of its own the way `make up` does (infra/local/up.py's `start_platform`: NATS,
Postgres, Jaeger, VictoriaMetrics and the four services, on loopback ports from `--base-port`, state in a
temporary folder), on the local Kubernetes cluster, which must already run (`make cluster-up`; it is left
running). It provisions a few stores (one with a webhook to a receiver of its own), lets VictoriaMetrics
scrape for a while, then photographs each vmui dashboard with headless Chromium (`/usr/bin/chromium`;
vmui shows the first of its dashboards, so each is served alone in turn) and one store's provisioning
trace, drawn from `GET /api/v1/stores/{id}/trace` as a waterfall (the Jaeger built from the Go module
proxy has no web UI). PNGs go to `--out` (docs/images), squeezed by `pngquant` when it is installed
(`apt-get install pngquant`). The stores are deleted before it stops. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from infra.cluster import cluster
from infra.local.observability import DASHBOARDS, JaegerPorts, vmui_dashboard
from infra.local.up import Ports, start_platform

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
WIDTH = 1280
# How long VictoriaMetrics scrapes (every 5 s) after the stores are ready: rates need a few samples.
SCRAPE_SECONDS = 75


def ports_from(base: int) -> Ports:
    return Ports(
        http=base,
        nats=base + 1,
        nats_monitoring=base + 2,
        postgres=base + 3,
        notifier_metrics=base + 4,
        provisioner_metrics=base + 5,
        status_metrics=base + 6,
        victoria_metrics=base + 7,
        jaeger=JaegerPorts(otlp_grpc=base + 8, otlp_http=base + 9, query_http=base + 10, query_grpc=base + 11),
    )


class Api:
    """The gateway's JSON API, as one user."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, "Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read() or b"{}")

    def sign_in(self) -> None:
        login = {"email": f"screens-{time.time_ns()}@example.com", "password": "correct horse battery"}
        self.call("POST", "/api/v1/auth/register", login)
        _, answer = self.call("POST", "/api/v1/auth/login", login)
        self.headers = {"Authorization": f"Bearer {answer['token']}"}

    def wait_for(self, store_id: str, statuses: set[str], timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, store = self.call("GET", f"/api/v1/stores/{store_id}")
            if code == 404 and "deleted" in statuses:
                return {"status": "deleted"}
            if store.get("status") in statuses:
                return store
            time.sleep(1)
        raise TimeoutError(f"store {store_id} never reached {statuses}")


@contextlib.contextmanager
def receiver(port: int) -> Any:
    """A webhook endpoint that takes every delivery."""

    class Took(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Took)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}/hooks"
    finally:
        server.shutdown()


def provision(api: Api, hook_url: str, names: list[str], ids: list[str]) -> None:
    """Stores (their ids into `ids` as soon as they are asked for), until ready; a webhook takes their events."""
    code, hook = api.call("POST", "/api/v1/webhooks", {"url": hook_url, "events": ["*"]})
    if code != 201:
        print(f"webhook not registered ({code}): {hook}", file=sys.stderr)
    for name in names:
        code, store = api.call("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
        if code != 202:
            raise RuntimeError(f"store {name} refused ({code}): {store}")
        ids.append(store["id"])
    for store_id in ids:
        api.wait_for(store_id, {"ready", "failed"})


def screenshot(url: str, out: Path, height: int) -> None:
    """Headless Chromium's picture of `url`, given time to fetch and draw, then squeezed."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={WIDTH},{height}",
        "--virtual-time-budget=15000",
        f"--screenshot={out}",
        url,
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    if shutil.which("pngquant"):
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--output", str(out), "64", str(out)], check=False)
    print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: {out.stat().st_size // 1024} KB")


def dashboards(vm_url: str, served: Path, out: Path) -> None:
    """Each vmui dashboard alone in the folder VictoriaMetrics serves them from (read on every request)."""
    for path in sorted(DASHBOARDS.glob("*.json")):
        for old in served.glob("*.json"):
            old.unlink()
        board = one_row(vmui_dashboard(json.loads(path.read_text()), path.stem))
        (served / path.name).write_text(json.dumps(board))
        view = f"{vm_url}/vmui/#/dashboards?g0.range_input=10m&g0.relative_time=last_10_minutes"
        screenshot(view, out / f"dashboard-{path.stem}.png", min(3600, 80 + sum(map(row_height, board["rows"]))))


def one_row(board: dict[str, Any]) -> dict[str, Any]:
    """The dashboard with every panel in one row, without legends: vmui opens only its first row, and
    every series at 0 would fill the picture with its legend (vmui names a series on hover)."""
    panels = [{**panel, "showLegend": False} for row in board["rows"] for panel in row["panels"]]
    title = " · ".join(row["title"] for row in board["rows"] if row["title"])
    return {**board, "rows": [{"title": title, "panels": panels}]}


def row_height(row: dict[str, Any]) -> int:
    """A vmui row's height: its title, then its panels laid out in lines of 12 columns, about 530 px each."""
    lines, used = 0, 12
    for panel in row["panels"]:
        width = int(panel["width"])
        if used + width > 12:
            lines, used = lines + 1, 0
        used += width
    return 120 + 530 * lines


# The spans a reader looks for; the Kubernetes calls and each message's create and publish are left out.
SHOWN = ("POST ", "GET ", "step ", "helm ", "webhook ")


def shown(span: dict[str, Any]) -> bool:
    name = str(span["name"])
    projected = span["service"] == "storeplane-status" and name.startswith("stores.") and name.endswith(" process")
    return name.startswith(SHOWN) or projected


def label(span: dict[str, Any]) -> str:
    """`stores.<id>.chart_installed process` as `project chart_installed`."""
    name: str = span["name"]
    if name.startswith("stores.") and name.endswith(" process"):
        return "project " + name.split(".")[2].removesuffix(" process")
    return name


def waterfall(trace: dict[str, Any]) -> str:
    """A trace's main spans as an HTML waterfall: one bar per span, by service, at its offset from the first."""
    spans = [span for span in trace["spans"] if shown(span)]
    start = min(time_of(s) for s in spans)
    end = max(time_of(s) + s["duration_ms"] / 1000 for s in spans)
    total = max(end - start, 0.001)
    colours = {"storeplane-gateway": "#4e79a7", "storeplane-provisioner": "#f28e2b", "storeplane-status": "#59a14f"}
    rows = []
    for span in spans:
        left = (time_of(span) - start) / total * 100
        width = max(span["duration_ms"] / 1000 / total * 100, 0.3)
        colour = colours.get(span["service"], "#b07aa1")
        rows.append(
            f'<tr><td class="n">{html.escape(span["service"].removeprefix("storeplane-"))}</td>'
            f'<td class="n">{html.escape(label(span))}</td><td class="bar"><div style="margin-left:{left:.2f}%;'
            f'width:{width:.2f}%;background:{colour}"></div></td><td class="d">{span["duration_ms"]:.0f} ms</td></tr>'
        )
    return (
        "<html><head><style>body{font:13px sans-serif;margin:16px}table{border-collapse:collapse;width:100%}"
        "td{padding:2px 6px;border-bottom:1px solid #eee;white-space:nowrap}td.bar{width:60%}"
        "td.bar div{height:12px;border-radius:2px}td.d{text-align:right;color:#555}</style></head><body>"
        f"<h3>Trace {html.escape(trace['trace_id'])}: {len(trace['spans'])} spans, {total:.1f} s "
        f"(shown: the request, each step, Helm, each projection and webhook delivery)</h3>"
        f"<table>{''.join(rows)}</table></body></html>"
    )


def time_of(span: dict[str, Any]) -> float:
    return datetime.fromisoformat(span["start"]).timestamp()


def trace_picture(api: Api, store_id: str, out: Path, scratch: Path) -> None:
    for _ in range(30):  # spans leave each process within half a second; the projection's a little later
        code, trace = api.call("GET", f"/api/v1/stores/{store_id}/trace")
        if code == 200 and trace.get("spans"):
            break
        time.sleep(1)
    page = scratch / "trace.html"
    page.write_text(waterfall(trace))
    screenshot(page.as_uri(), out / "trace.png", min(2400, 100 + 22 * sum(map(shown, trace["spans"]))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--base-port", type=int, default=18400, help="12 consecutive loopback ports from here")
    arguments = parser.parse_args()
    layout = cluster.Layout(cluster.DEFAULT_DIR)
    if not all(cluster.running_pid(layout, component) for component in cluster.COMPONENTS):
        print("the local cluster is not running: `make cluster-up` first", file=sys.stderr)
        return 1
    ports = ports_from(arguments.base_port)
    arguments.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="storeplane-screens-") as scratch, contextlib.ExitStack() as running:
        state = Path(scratch)
        state.chmod(0o755)  # Postgres runs as the `postgres` user when we are root
        services = start_platform(
            running, ports, state, kubeconfig=layout.kubeconfig, helm_bin=cluster.binaries() / "helm", echo=False
        )
        for service in services:
            running.callback(service.stop)
        api = Api(f"http://127.0.0.1:{ports.http}")
        api.sign_in()
        hook = running.enter_context(receiver(arguments.base_port + 12))
        ids: list[str] = []
        running.callback(delete, api, ids)  # whatever was asked for, also when something fails
        provision(api, hook, ["screens-shop", "screens-books"], ids)
        time.sleep(SCRAPE_SECONDS)
        dashboards(
            f"http://127.0.0.1:{ports.victoria_metrics}", state / "victoria-metrics" / "dashboards", arguments.out
        )
        trace_picture(api, ids[0], arguments.out, state)
    return 0


def delete(api: Api, ids: list[str]) -> None:
    for store_id in ids:
        api.call("DELETE", f"/api/v1/stores/{store_id}")
    for store_id in ids:
        with contextlib.suppress(TimeoutError):
            api.wait_for(store_id, {"deleted"}, timeout=180)


if __name__ == "__main__":
    raise SystemExit(main())
