"""The local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok's simulated nodes, on loopback, without containers.

    python3 infra/cluster/cluster.py up|stop|down|status|bin|helm

`up` builds the binaries once (build.sh, cached outside the repository), starts whatever
is not running, waits until the API server is ready and the nodes are Ready, and writes a
kubeconfig to `<state>/kubeconfig`. It is idempotent. `stop` stops every process and keeps
the state; `down` stops them and removes the state. `bin` prints the folder of the binaries,
`helm` the path of Helm alone (built without the control plane). Standard library only: it
runs before any virtualenv.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_DIR = Path(os.environ.get("STOREPLANE_CLUSTER_DIR", ROOT / ".storeplane" / "cluster"))
API_PORT = int(os.environ.get("STOREPLANE_CLUSTER_API_PORT", "16443"))
ETCD_PORT = int(os.environ.get("STOREPLANE_CLUSTER_ETCD_PORT", "12379"))
KWOK_PORT = int(os.environ.get("STOREPLANE_CLUSTER_KWOK_PORT", "10247"))
NODES = int(os.environ.get("STOREPLANE_CLUSTER_NODES", "3"))
SERVICE_CIDR = "10.96.0.0/16"
# Where kube-controller-manager's host-path provisioner puts volumes (fixed in its code).
HOSTPATH_ROOT = "/tmp/hostpath_pv"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
PORTS = {
    "etcd": ((ETCD_PORT, "STOREPLANE_CLUSTER_ETCD_PORT"), (ETCD_PORT + 1, "STOREPLANE_CLUSTER_ETCD_PORT")),
    "kube-apiserver": ((API_PORT, "STOREPLANE_CLUSTER_API_PORT"),),
    "kwok": ((KWOK_PORT, "STOREPLANE_CLUSTER_KWOK_PORT"),),
}


def log(message: str) -> None:
    print(f"cluster: {message}", file=sys.stderr, flush=True)


def binaries(*only: str) -> Path:
    """Build (once) and return the folder of cached binaries: all of them, or only the build.sh
    targets named (`helm`)."""
    result = subprocess.run(["bash", str(HERE / "build.sh"), *only], stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        what = " ".join(only) or "the control plane"
        raise SystemExit(f"cluster: building {what} failed (exit {result.returncode})")
    return Path(result.stdout.strip().splitlines()[-1])


def helm_binary() -> Path:
    """Helm alone, built (once) into the same cache: what chart tests need, without the control plane."""
    return binaries("helm") / "helm"


@dataclass(frozen=True)
class Layout:
    """Where the cluster keeps its files."""

    dir: Path

    @property
    def pki(self) -> Path:
        return self.dir / "pki"

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    @property
    def token_file(self) -> Path:
        return self.pki / "tokens.csv"

    @property
    def kwok_stages(self) -> Path:
        return self.dir / "kwok-stages.yaml"

    def pid_file(self, component: str) -> Path:
        return self.dir / "run" / f"{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.dir / "logs" / f"{component}.log"


# --- processes -------------------------------------------------------------------------

# The components outlive this process on purpose; holding their Popen objects keeps them from
# being collected (and warned about) while they run. Later calls find them by pid file.
_DETACHED: list[subprocess.Popen[bytes]] = []


def recorded_pid(layout: Layout, component: str) -> int | None:
    """The pid in the component's pid file, if there is one."""
    try:
        return int(layout.pid_file(component).read_text())
    except (OSError, ValueError):
        return None


def own_child(pid: int | None) -> subprocess.Popen[bytes] | None:
    """The process with this pid if this process started it."""
    return next((process for process in _DETACHED if process.pid == pid), None)


def running_pid(layout: Layout, component: str) -> int | None:
    """The component's pid if the process we started is still alive."""
    pid = recorded_pid(layout, component)
    if pid is None:
        return None
    if (child := own_child(pid)) is not None:  # started by this process: it knows for sure
        return pid if child.poll() is None else None
    return pid if process_alive(pid, component) else None


def process_alive(pid: int, component: str) -> bool:
    """Whether `pid` is a live process of `component`, as far as /proc tells."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    # The command line guards against a reused pid. It is empty for a moment after exec, while the
    # kernel still loads the program: a check right after a start must not take that for an exit.
    return state != "Z" and (not cmdline or component.encode() in cmdline)


def port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_for_free_ports(component: str, timeout: float = 30) -> None:
    """A component not running whose port answers is some other process's: perhaps an earlier
    cluster still shutting down (wait for it), else one that keeps the port (say which)."""
    deadline = time.monotonic() + timeout
    for port, variable in PORTS.get(component, ()):
        while port_taken(port):
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"cluster: port {port}, which {component} needs, is taken by another process; "
                    f"stop it, or choose another port with {variable}"
                )
            time.sleep(0.5)


def start(layout: Layout, component: str, args: list[str]) -> None:
    if running_pid(layout, component):
        return
    wait_for_free_ports(component)
    layout.log_file(component).parent.mkdir(parents=True, exist_ok=True)
    layout.pid_file(component).parent.mkdir(parents=True, exist_ok=True)
    with layout.log_file(component).open("ab") as out:
        # A session of its own: the cluster outlives the shell (and the Ctrl-C) that started it.
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    _DETACHED.append(process)
    layout.pid_file(component).write_text(str(process.pid))


def stop(layout: Layout, component: str, timeout: float = 10) -> None:
    pid = running_pid(layout, component)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while running_pid(layout, component) and time.monotonic() < deadline:
            time.sleep(0.1)
        if running_pid(layout, component):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if (child := own_child(pid)) is not None:  # reap it
            child.wait()
            _DETACHED.remove(child)
    layout.pid_file(component).unlink(missing_ok=True)


# --- certificates and credentials ------------------------------------------------------


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def ensure_pki(layout: Layout) -> str:
    """A CA, the API server's serving certificate, the service-account key pair and an admin token;
    each is made once and kept. Returns the token."""
    layout.pki.mkdir(parents=True, exist_ok=True)
    ensure_ca(layout.pki)
    ensure_serving_certificate(layout.pki)
    ensure_service_account_keys(layout.pki)
    return ensure_admin_token(layout.token_file)


def ensure_ca(pki: Path) -> None:
    """The CA that signs the serving certificate and that clients trust."""
    if (pki / "ca.crt").exists():
        return
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        "/CN=storeplane-local-ca",
        "-keyout",
        str(pki / "ca.key"),
        "-out",
        str(pki / "ca.crt"),
    )


def ensure_serving_certificate(pki: Path) -> None:
    """The API server's certificate, for every name it is reached by, from outside and from pods."""
    if (pki / "apiserver.crt").exists():
        return
    ext = pki / "apiserver.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
        "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n"
        "extendedKeyUsage=serverAuth\n"
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=kube-apiserver",
        "-keyout",
        str(pki / "apiserver.key"),
        "-out",
        str(pki / "apiserver.csr"),
    )
    openssl(
        "x509",
        "-req",
        "-in",
        str(pki / "apiserver.csr"),
        "-CA",
        str(pki / "ca.crt"),
        "-CAkey",
        str(pki / "ca.key"),
        "-CAcreateserial",
        "-days",
        "3650",
        "-extfile",
        str(ext),
        "-out",
        str(pki / "apiserver.crt"),
    )


def ensure_service_account_keys(pki: Path) -> None:
    """The key pair the API server signs and checks service-account tokens with."""
    if (pki / "sa.key").exists():
        return
    openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
    openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def ensure_admin_token(token_file: Path) -> str:
    """The kubeconfig's credential: a bearer token of the system:masters group (no client certificate)."""
    if not token_file.exists():
        token_file.write_text(f"{secrets.token_hex(24)},storeplane-admin,storeplane-admin,system:masters\n")
        token_file.chmod(0o600)
    return token_file.read_text().split(",", 1)[0]


def write_kubeconfig(layout: Layout, token: str) -> None:
    import base64

    ca = base64.b64encode((layout.pki / "ca.crt").read_bytes()).decode()
    # JSON is YAML: no YAML library needed.
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "storeplane-local",
                "cluster": {"server": f"https://127.0.0.1:{API_PORT}", "certificate-authority-data": ca},
            }
        ],
        "users": [{"name": "storeplane-admin", "user": {"token": token}}],
        "contexts": [
            {"name": "storeplane-local", "context": {"cluster": "storeplane-local", "user": "storeplane-admin"}}
        ],
        "current-context": "storeplane-local",
    }
    layout.kubeconfig.write_text(json.dumps(config, indent=2))
    layout.kubeconfig.chmod(0o600)


# --- readiness -------------------------------------------------------------------------


def api_ready(layout: Layout, token: str) -> bool:
    context = ssl.create_default_context(cafile=str(layout.pki / "ca.crt"))
    request = urllib.request.Request(
        f"https://127.0.0.1:{API_PORT}/readyz", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def exit_status(pid: int | None) -> str:
    """How a process we started ended, as far as we can still tell."""
    child = own_child(pid)
    if child is None or (code := child.poll()) is None:
        return "exit status unknown"
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


def wait_until(
    what: str, check: Callable[[], bool], timeout: float, layout: Layout, commands: dict[str, list[str]]
) -> None:
    """Wait for `check`; a component among `commands` that dies meanwhile is started again, twice at most
    (a start-up race should not fail the cluster), then reported with its exit status and log."""
    deadline = time.monotonic() + timeout
    restarts = dict.fromkeys(commands, 2)
    while not check():
        for component, args in commands.items():
            if running_pid(layout, component):
                continue
            ended = exit_status(recorded_pid(layout, component))
            tail = layout.log_file(component).read_text(errors="replace")[-3000:] or "(empty)"
            if restarts[component] == 0:
                raise SystemExit(
                    f"cluster: {component} ended ({ended}) while waiting for {what}; its log ends:\n{tail}"
                )
            restarts[component] -= 1
            log(f"{component} ended ({ended}) while waiting for {what}; starting it again. Its log ends:\n{tail}")
            start(layout, component, args)
        if time.monotonic() > deadline:
            raise SystemExit(f"cluster: {what} not reached after {timeout:.0f}s; see {layout.dir / 'logs'}")
        time.sleep(0.2)


def kubectl(bin_dir: Path, layout: Layout, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(bin_dir / "kubectl"), "--kubeconfig", str(layout.kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


# --- the cluster's fixed objects -------------------------------------------------------


# What each simulated node offers. No container runs, so this only bounds how many pods (and requests)
# the scheduler places: room for a large tenant base (1,000 stores of a few pods each, and what the tests
# leave on a cluster they share), not a model of real machines.
NODE_CAPACITY = {"cpu": "512", "memory": "2Ti", "pods": "2500", "ephemeral-storage": "10Ti"}


def bootstrap_objects() -> str:
    """Nodes for kwok to animate, a default StorageClass with dynamic hostPath volumes, an IngressClass."""
    items: list[dict[str, object]] = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubernetes.io/host-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
            "spec": {"controller": "k8s.io/ingress-nginx"},
        },
    ]
    items.extend(node_objects())
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def node_objects() -> list[dict[str, object]]:
    nodes: list[dict[str, object]] = []
    for index in range(NODES):
        name = f"kwok-node-{index}"
        nodes.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "kubernetes.io/role": "agent",
                        "type": "kwok",
                    },
                },
                "status": {"allocatable": NODE_CAPACITY, "capacity": NODE_CAPACITY},
            }
        )
    return nodes


def node_statuses() -> str:
    """The nodes' capacity alone: applied to their status, so that a cluster made before a change of
    NODE_CAPACITY gets it too (an apply of the object itself leaves an existing node's status as it was)."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": node_objects()})


# --- command lines --------------------------------------------------------------------


def etcd_command(layout: Layout, bin_dir: Path) -> list[str]:
    return [
        f"{bin_dir}/etcd",
        "--name",
        "storeplane",
        "--data-dir",
        str(layout.dir / "etcd"),
        "--listen-client-urls",
        f"http://127.0.0.1:{ETCD_PORT}",
        "--advertise-client-urls",
        f"http://127.0.0.1:{ETCD_PORT}",
        "--listen-peer-urls",
        f"http://127.0.0.1:{ETCD_PORT + 1}",
        "--initial-advertise-peer-urls",
        f"http://127.0.0.1:{ETCD_PORT + 1}",
        "--initial-cluster",
        f"storeplane=http://127.0.0.1:{ETCD_PORT + 1}",
        "--listen-metrics-urls",
        "",
        "--unsafe-no-fsync",
        "--log-level",
        "warn",
    ]


def apiserver_command(layout: Layout, bin_dir: Path) -> list[str]:
    pki = layout.pki
    return [
        f"{bin_dir}/kube-apiserver",
        "--etcd-servers",
        f"http://127.0.0.1:{ETCD_PORT}",
        "--bind-address",
        "127.0.0.1",
        "--advertise-address",
        "127.0.0.1",
        "--secure-port",
        str(API_PORT),
        "--tls-cert-file",
        str(pki / "apiserver.crt"),
        "--tls-private-key-file",
        str(pki / "apiserver.key"),
        "--client-ca-file",
        str(pki / "ca.crt"),
        "--token-auth-file",
        str(layout.token_file),
        "--service-account-issuer",
        "https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file",
        str(pki / "sa.pub"),
        "--service-account-signing-key-file",
        str(pki / "sa.key"),
        "--service-cluster-ip-range",
        SERVICE_CIDR,
        "--authorization-mode",
        "RBAC",
        "--allow-privileged=true",
        "--endpoint-reconciler-type",
        "none",
        "--profiling=false",
        "--enable-priority-and-fairness=false",
        "--v",
        "1",
    ]


def controller_manager_command(layout: Layout, bin_dir: Path) -> list[str]:
    pki = layout.pki
    return [
        f"{bin_dir}/kube-controller-manager",
        "--kubeconfig",
        str(layout.kubeconfig),
        "--secure-port",
        "0",
        "--service-account-private-key-file",
        str(pki / "sa.key"),
        "--root-ca-file",
        str(pki / "ca.crt"),
        "--cluster-signing-cert-file",
        str(pki / "ca.crt"),
        "--cluster-signing-key-file",
        str(pki / "ca.key"),
        "--enable-hostpath-provisioner=true",
        "--leader-elect=false",
        "--use-service-account-credentials=false",
        "--service-cluster-ip-range",
        SERVICE_CIDR,
        "--profiling=false",
        "--v",
        "1",
    ]


def scheduler_command(layout: Layout, bin_dir: Path) -> list[str]:
    return [
        f"{bin_dir}/kube-scheduler",
        "--kubeconfig",
        str(layout.kubeconfig),
        "--secure-port",
        "0",
        "--leader-elect=false",
        "--profiling=false",
        "--v",
        "1",
    ]


def kwok_command(layout: Layout, bin_dir: Path) -> list[str]:
    return [
        f"{bin_dir}/kwok",
        "--kubeconfig",
        str(layout.kubeconfig),
        "--config",
        str(layout.kwok_stages),
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector",
        "kwok.x-k8s.io/node=fake",
        "--node-ip",
        "127.0.0.1",
        "--cidr",
        "10.244.0.1/16",
        "--node-lease-duration-seconds",
        "40",
        "--server-address",
        f"127.0.0.1:{KWOK_PORT}",
    ]


# How each component is started, from the layout and the folder of binaries.
COMMAND_LINES: dict[str, Callable[[Layout, Path], list[str]]] = {
    "etcd": etcd_command,
    "kube-apiserver": apiserver_command,
    "kube-controller-manager": controller_manager_command,
    "kube-scheduler": scheduler_command,
    "kwok": kwok_command,
}


# --- commands --------------------------------------------------------------------------


def up(layout: Layout) -> None:
    """Start what is not running; if that fails, stop what this call started (no half cluster is left)."""
    before = {component for component in COMPONENTS if running_pid(layout, component)}
    try:
        start_all(layout)
    except BaseException:
        for component in reversed(COMPONENTS):
            if component not in before:
                stop(layout, component)
        raise


def start_all(layout: Layout) -> None:
    """Start whatever is not running, in order: etcd and the API server, the controllers, kwok and
    its nodes; then wait until the nodes are Ready and the controllers work."""
    started = time.monotonic()
    bin_dir = binaries()
    layout.dir.mkdir(parents=True, exist_ok=True)
    token = ensure_pki(layout)
    write_kubeconfig(layout, token)
    if all(running_pid(layout, c) for c in COMPONENTS) and api_ready(layout, token):
        log("already running")
        return
    plane = ControlPlane(layout, bin_dir)
    start_api_server(plane, token)
    start_controllers(plane)
    start_kwok(plane)
    wait_until_settled(plane)
    log(f"ready in {time.monotonic() - started:.1f}s; kubeconfig: {layout.kubeconfig}")


@dataclass
class ControlPlane:
    """The components started so far by one `up`, with their command lines: a start-up wait starts
    again any of them that dies meanwhile."""

    layout: Layout
    bin_dir: Path
    commands: dict[str, list[str]] = field(default_factory=dict)

    def launch(self, component: str) -> None:
        self.commands[component] = COMMAND_LINES[component](self.layout, self.bin_dir)
        start(self.layout, component, self.commands[component])

    def wait_until(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        wait_until(what, check, timeout, self.layout, self.commands)

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        return kubectl(self.bin_dir, self.layout, *args, stdin=stdin)


def start_api_server(plane: ControlPlane, token: str) -> None:
    """etcd, then the API server on it; wait until the API server is ready."""
    plane.launch("etcd")
    plane.launch("kube-apiserver")
    plane.wait_until("the API server to be ready", lambda: api_ready(plane.layout, token), 90)


def start_controllers(plane: ControlPlane) -> None:
    plane.launch("kube-controller-manager")
    plane.launch("kube-scheduler")


def start_kwok(plane: ControlPlane) -> None:
    """kwok with its stages and ours, and the fixed objects: among them the nodes it animates."""
    stages = [plane.bin_dir / "kwok-stages-v3.yaml", *sorted((HERE / "stages").glob("*.yaml"))]
    plane.layout.kwok_stages.write_text("\n---\n".join(f.read_text() for f in stages))
    plane.launch("kwok")
    plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=bootstrap_objects())
    plane.kubectl(
        "apply", "--server-side", "--force-conflicts", "--subresource=status", "-f", "-", stdin=node_statuses()
    )


def wait_until_settled(plane: ControlPlane) -> None:
    """The nodes Ready, and the controllers at work (they create the default service account)."""

    def nodes_ready() -> bool:
        out = plane.kubectl(
            "get", "nodes", "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type=='Ready')].status}{' '}{end}"
        )
        return out.split().count("True") >= NODES

    def default_service_account() -> bool:
        try:
            plane.kubectl("get", "serviceaccount", "default", "-n", "default")
        except RuntimeError:
            return False
        return True

    plane.wait_until("the nodes to be Ready", nodes_ready, 60)
    plane.wait_until("the controllers to run", default_service_account, 60)


def stop_all(layout: Layout) -> None:
    """Stop every process, keeping the state: the next `up` resumes the same cluster."""
    for component in reversed(COMPONENTS):
        stop(layout, component)


def down(layout: Layout) -> None:
    volumes = volume_folders(layout)
    stop_all(layout)
    shutil.rmtree(layout.dir, ignore_errors=True)
    for folder in volumes:
        shutil.rmtree(folder, ignore_errors=True)
    log(f"stopped and removed (with {len(volumes)} volume folders)")


def volume_folders(layout: Layout) -> list[Path]:
    """Folders of this cluster's dynamically provisioned volumes, which live outside its state."""
    if not running_pid(layout, "kube-apiserver"):
        return []
    try:
        out = kubectl(binaries(), layout, "get", "persistentvolumes", "-o", "jsonpath={.items[*].spec.hostPath.path}")
    except RuntimeError:
        return []
    return [Path(path) for path in out.split() if path.startswith(f"{HOSTPATH_ROOT}/")]


def status(layout: Layout) -> int:
    alive = 0
    for component in COMPONENTS:
        pid = running_pid(layout, component)
        alive += bool(pid)
        print(f"{component:<25} {'running, pid ' + str(pid) if pid else 'stopped'}")
    if layout.token_file.exists():
        token = layout.token_file.read_text().split(",", 1)[0]
        print(
            f"{'API server':<25} {'ready' if api_ready(layout, token) else 'not ready'} at https://127.0.0.1:{API_PORT}"
        )
        print(f"{'kubeconfig':<25} {layout.kubeconfig}")
    return 0 if alive == len(COMPONENTS) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "stop", "down", "status", "bin", "helm"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where the cluster keeps its state")
    args = parser.parse_args()
    layout = Layout(args.dir.resolve())
    if args.command == "up":
        up(layout)
    elif args.command == "down":
        down(layout)
    elif args.command == "stop":
        stop_all(layout)
    elif args.command == "bin":
        print(binaries())
    elif args.command == "helm":
        print(helm_binary())
    else:
        return status(layout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
