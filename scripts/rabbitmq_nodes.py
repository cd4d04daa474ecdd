"""A RabbitMQ cluster of N nodes on this machine, from Debian's rabbitmq-server, for
`make up RABBITMQ_NODES=3` and the tests.

It is a cluster of its own, beside the machine's broker (which every other test run and the
single-node `make up` share): nodes `conveyor-<port>-<i>@localhost` listen for AMQP on
`first_port + i` (loopback only), each with its own data directory under `base`, one Erlang
cookie for all of them, and no plugins. Node 2..N join node 1. Quorum queues declared while
all nodes are members get a replica on each.

    python scripts/rabbitmq_nodes.py start  DIR [--nodes 3] [--first-port 5701] [--vhost V]
    python scripts/rabbitmq_nodes.py stop   DIR
    python scripts/rabbitmq_nodes.py status DIR
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
STATE = "nodes.json"
START_WITHIN_S = 90.0
USER, PASSWORD = "guest", "guest"  # guest may connect from loopback only, as here


@dataclass(frozen=True)
class Node:
    name: str  # Erlang node name, e.g. conveyor-5701-1@localhost
    port: int  # AMQP
    dist_port: int  # Erlang distribution, between the nodes and rabbitmqctl
    home: str  # HOME of its processes: where the shared Erlang cookie lives
    data: str  # data, logs and configuration

    def amqp_url(self, vhost: str) -> str:
        return f"amqp://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{vhost}"


def plan(base: Path, count: int, first_port: int) -> list[Node]:
    return [Node(name=f"conveyor-{first_port}-{i}@localhost", port=first_port + i - 1,
                 dist_port=first_port + 20000 + i - 1, home=str(base / "home"),
                 data=str(base / f"node{i}")) for i in range(1, count + 1)]


def _env(node: Node) -> dict[str, str]:
    data = Path(node.data)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")},
        "HOME": node.home,
        "RABBITMQ_CONF_ENV_FILE": str(data / "rabbitmq-env.conf"),  # not the machine's
        "RABBITMQ_NODENAME": node.name,
        "RABBITMQ_NODE_PORT": str(node.port),
        "RABBITMQ_DIST_PORT": str(node.dist_port),
        "RABBITMQ_MNESIA_BASE": str(data / "mnesia"),
        "RABBITMQ_LOG_BASE": str(data / "log"),
        "RABBITMQ_PID_FILE": str(data / "rabbitmq.pid"),
        "RABBITMQ_CONFIG_FILE": str(data / "rabbitmq"),  # .conf is added
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(data / "enabled_plugins"),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        "ERL_CRASH_DUMP_SECONDS": "0",  # rabbitmqctl against a stopped node writes none
    }


def _prepare(node: Node) -> None:
    home, data = Path(node.home), Path(node.data)
    home.mkdir(parents=True, exist_ok=True)
    cookie = home / ".erlang.cookie"
    if not cookie.exists():
        cookie.write_text(secrets.token_hex(16).upper())
        cookie.chmod(0o400)
    (data / "log").mkdir(parents=True, exist_ok=True)
    (data / "rabbitmq-env.conf").write_text("")
    (data / "enabled_plugins").write_text("[].\n")
    (data / "rabbitmq.conf").write_text(
        f"listeners.tcp.local = 127.0.0.1:{node.port}\n")


def ctl(node: Node, *args: str, check: bool = True, timeout: float = 60) -> str:
    """rabbitmqctl against one node; its stdout."""
    done = subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "-n", node.name, "-q", *args],
                          env=_env(node), capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {node.name}: "
                           f"{done.stdout}{done.stderr}")
    return done.stdout


def running(node: Node) -> bool:
    try:
        return subprocess.run(
            [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", node.name, "-q", "ping"],
            env=_env(node), capture_output=True, timeout=10, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def start_node(node: Node) -> None:
    """Start one node (detached) and wait until it serves; a node already running is left."""
    if running(node):
        return
    _prepare(node)
    subprocess.run([str(RABBITMQ_BIN / "rabbitmq-server"), "-detached"], env=_env(node),
                   check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + START_WITHIN_S
    while not running(node):  # -detached returns before the VM registers its name
        if time.monotonic() > deadline:
            raise TimeoutError(f"{node.name} did not start; see {node.data}/log")
        time.sleep(0.2)
    ctl(node, "await_startup", "--timeout", str(int(START_WITHIN_S)), timeout=START_WITHIN_S + 10)


def stop_node(node: Node) -> None:
    """Stop one node's whole Erlang VM, as a machine going away would; a node that does not
    stop when asked is killed (by its pid file), so no run leaves one behind."""
    if not running(node):
        return
    try:
        ctl(node, "stop", timeout=120)
    except (RuntimeError, subprocess.TimeoutExpired):
        pid_file = Path(node.data) / "rabbitmq.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)


def members(node: Node) -> set[str]:
    status = json.loads(ctl(node, "cluster_status", "--formatter", "json"))
    return set(status.get("disk_nodes", [])) | set(status.get("ram_nodes", []))


def join(node: Node, first: Node) -> None:
    if first.name in members(node):
        return
    ctl(node, "stop_app")
    ctl(node, "reset")
    ctl(node, "join_cluster", first.name)
    ctl(node, "start_app")


def ensure_vhost(node: Node, vhost: str) -> None:
    ctl(node, "add_vhost", vhost, check=False)  # already there: fine
    ctl(node, "set_permissions", "-p", vhost, USER, ".*", ".*", ".*")


def start(base: Path, count: int, first_port: int, vhost: str) -> list[Node]:
    nodes = plan(base, count, first_port)
    for node in nodes:
        start_node(node)
    for node in nodes[1:]:
        join(node, nodes[0])
    ensure_vhost(nodes[0], vhost)
    (base / STATE).write_text(json.dumps([asdict(n) for n in nodes]))
    return nodes


def load(base: Path) -> list[Node]:
    path = base / STATE
    return [Node(**n) for n in json.loads(path.read_text())] if path.exists() else []


def stop(base: Path) -> None:
    for node in reversed(load(base)):
        stop_node(node)


def queue_leader(node: Node, vhost: str, queue: str) -> str:
    """The node name of a quorum queue's leader, asked of any live node."""
    rows = json.loads(ctl(node, "list_queues", "-p", vhost, "name", "leader",
                          "--formatter", "json") or "[]")
    for row in rows:
        if row.get("name") == queue:
            return str(row["leader"])
    raise LookupError(f"no queue {queue} in {vhost}")


def urls(nodes: list[Node], vhost: str) -> str:
    """CONVEYOR_AMQP_URL for the cluster: every node's address."""
    return ",".join(node.amqp_url(vhost) for node in nodes)


def for_make_up(env: dict[str, str], base: Path, first_port: int,
                say: Callable[[str], None]) -> str:
    """With RABBITMQ_NODES above 1, start (or find) that many nodes joined in one cluster and
    point the services at all of them (in `env`); a line for `make up`'s summary."""
    count = int(env.get("RABBITMQ_NODES") or 1)
    if count <= 1:
        return "the machine's broker"
    vhost = env["CONVEYOR_AMQP_URL"].rsplit("/", 1)[-1] or "conveyor"
    say(f"starting a {count}-node RabbitMQ cluster in {base} ...")
    nodes = start(base, count, first_port, vhost)
    env["CONVEYOR_AMQP_URL"] = urls(nodes, vhost)
    return f"{count} nodes on ports {nodes[0].port}-{nodes[-1].port} (quorum queues on each)"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("dir", type=Path)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--first-port", type=int, default=5701)
    parser.add_argument("--vhost", default="conveyor")
    args = parser.parse_args(argv)
    if args.command == "start":
        nodes = start(args.dir, args.nodes, args.first_port, args.vhost)
        print(urls(nodes, args.vhost))
    elif args.command == "stop":
        stop(args.dir)
    else:
        for node in load(args.dir):
            print(f"{node.name} amqp:{node.port} {'running' if running(node) else 'stopped'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
