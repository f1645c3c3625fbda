"""Run Storeplane's four processes' worth of platform on one machine.

`make up` and the end-to-end tests both start the services through `start_services`, so
the tests exercise exactly what a user runs: separate processes talking over NATS.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infra.local.servers import stop_process

SERVICES = ("status", "provisioner", "notifier", "gateway")
# Webhooks to this machine are refused unless allowed: locally they go to a loopback receiver.
LOCAL_WEBHOOK_TARGETS = "127.0.0.0/8,::1/128"


@dataclass(frozen=True)
class Telemetry:
    """Where the services serve their metrics and send their traces (0 or empty: nowhere)."""

    provisioner_metrics_port: int = 0
    status_metrics_port: int = 0
    nats_monitoring_url: str = ""
    otlp_endpoint: str = ""
    # Jaeger's query API, which the gateway asks for a store's trace.
    trace_query_url: str = ""

    def env(self) -> dict[str, str]:
        env = {
            "STOREPLANE_PROVISIONER_METRICS_PORT": str(self.provisioner_metrics_port),
            "STOREPLANE_STATUS_METRICS_PORT": str(self.status_metrics_port),
            "STOREPLANE_NATS_MONITORING_URL": self.nats_monitoring_url,
            "STOREPLANE_TRACE_QUERY_URL": self.trace_query_url,
        }
        if self.otlp_endpoint:
            # OTLP over HTTP (opentelemetry's standard variables); spans leave within half a second.
            env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint, "OTEL_BSP_SCHEDULE_DELAY": "500"}
        return env


@dataclass
class ServiceProcess:
    """One service we started, and how (so that it can be started again)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)  # holds its NATS password: never printed
    echo: bool = False

    def restarted(self) -> ServiceProcess:
        """The same service started again, as it was started the first time."""
        return start_service(self.name, self.env, self.log.parent, echo=self.echo)

    def stop(self, timeout: float = 15) -> None:
        stop_process(self.process, signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        stop_process(self.process, signal.SIGKILL, 0)


def service_env(
    *,
    nats_url: str,
    database_url: str,
    kubeconfig: Path,
    helm_bin: Path,
    http_port: int,
    notifier_metrics_port: int = 0,
    telemetry: Telemetry | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Every service's environment; without `telemetry` no metrics port is served but the notifier's
    and spans go nowhere."""
    telemetry = telemetry or Telemetry()
    return {
        **os.environ,
        **telemetry.env(),
        "STOREPLANE_NATS_URL": nats_url,
        "STOREPLANE_DATABASE_URL": database_url,
        "STOREPLANE_KUBECONFIG": str(kubeconfig),
        "STOREPLANE_HELM_BIN": str(helm_bin),
        "STOREPLANE_HTTP_PORT": str(http_port),
        "STOREPLANE_WEBHOOK_ALLOWED_TARGETS": LOCAL_WEBHOOK_TARGETS,
        "STOREPLANE_NOTIFIER_METRICS_PORT": str(notifier_metrics_port),
        # Readable lines on a developer's terminal; JSON is the default everywhere else.
        "STOREPLANE_LOG_JSON": os.environ.get("STOREPLANE_LOG_JSON", "false"),
        **(extra or {}),
    }


def start_service(name: str, env: dict[str, str], logs: Path, *, echo: bool = False) -> ServiceProcess:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", f"storeplane_{name}"],
            env=env,
            stdout=None if echo else out,
            stderr=subprocess.STDOUT if not echo else None,
            stdin=subprocess.DEVNULL,
        )
    return ServiceProcess(name, process, log, env=env, echo=echo)


def wait_http(url: str, *, timeout: float = 60, processes: Sequence[ServiceProcess] = ()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for service in processes:
            if service.process.poll() is not None:
                tail = service.log.read_text(errors="replace")[-3000:] if service.log.exists() else ""
                raise RuntimeError(f"{service.name} exited with {service.process.returncode}:\n{tail}")
        with contextlib.suppress(urllib.error.URLError, OSError), urllib.request.urlopen(url, timeout=1) as r:
            if r.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s")


def start_services(
    env: dict[str, str],
    logs: Path,
    *,
    echo: bool = False,
    own_env: Callable[[str], Mapping[str, str]] = lambda _: {},
) -> list[ServiceProcess]:
    """Start status, provisioner, notifier and gateway; return once the gateway is ready. `own_env(name)` is
    what one service adds to `env` (its NATS login: see infra/local/credentials.py)."""
    services = [start_service(name, {**env, **own_env(name)}, logs, echo=echo) for name in SERVICES]
    try:
        wait_http(f"http://127.0.0.1:{env['STOREPLANE_HTTP_PORT']}/ready", processes=services)
    except Exception:
        for service in services:
            service.stop()
        raise
    return services
