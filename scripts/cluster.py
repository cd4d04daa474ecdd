"""Local Conveyor cluster without Docker: an S3 endpoint plus one process per service.

    .venv/bin/python scripts/cluster.py up | down | status | logs [NAME...] | run

`up` starts `run` (the supervisor) detached, waits until every process it started is ready
(/readyz), makes sure a dev token exists and prints how to reach everything. SCALE="echo=2
docrender=2" starts that many instances of a service (scripts/cluster_plan.py). The supervisor
restarts a process that exits, with backoff, and gives up on it after too many exits in a
minute. State lives in .run/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import rabbitmq_nodes
from cluster_plan import host_port, http_status, parse_scale, plan, port_open, wait_ready

# Adding a service is one line here (compose.yaml has one block per service as well).
SERVICES = ("gateway", "scheduler", "registry", "echo", "docrender", "slides", "codegen",
            "ingester", "remote_reference")

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("CONVEYOR_RUN_DIR") or ROOT / ".run")  # tests use their own
LOG_DIR, TOKEN_FILE = RUN_DIR / "logs", RUN_DIR / "dev-token"
PID_FILE, STATE_FILE = RUN_DIR / "cluster.pid", RUN_DIR / "cluster.json"
# RABBITMQ_NODES=3: a RabbitMQ cluster of our own (scripts/rabbitmq_nodes.py) instead of the
# machine's broker, its nodes on BROKER_FIRST_PORT and up.
BROKER_DIR, BROKER_FIRST_PORT = RUN_DIR / "rabbitmq", 5701

# Local-dev defaults; any CONVEYOR_* already in the environment wins.
DEFAULT_ENV: dict[str, str] = {
    "CONVEYOR_ENV": "dev",
    "CONVEYOR_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/conveyor",
    "CONVEYOR_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/conveyor",
    "CONVEYOR_S3_ENDPOINT": "127.0.0.1:9000",
    "CONVEYOR_S3_ACCESS_KEY": "conveyor",
    "CONVEYOR_S3_SECRET_KEY": "conveyor-secret",
    "CONVEYOR_S3_SECURE": "0",
    "CONVEYOR_S3_BUCKET": "conveyor",
    "CONVEYOR_GATEWAY_HOST": "127.0.0.1",
    "CONVEYOR_GATEWAY_PORT": "8000",
    # Seed 004: docrender is the local server docrender-1; the reference server is admitted.
    "CONVEYOR_DOCRENDER_INSTANCE_NAME": "docrender-1",
    "CONVEYOR_SERVER_URL_ALLOWLIST": "127.0.0.2/32",
}
MAX_EXITS_PER_MINUTE = 5
STOP_GRACE_S = 10.0
READY_TIMEOUT_S = 120.0  # the ingester loads its embedding model before it is ready


def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def gateway_url(env: dict[str, str]) -> str:
    host = env["CONVEYOR_GATEWAY_HOST"].replace("0.0.0.0", "") or "127.0.0.1"  # bind-all: no URL
    return f"http://{host}:{env['CONVEYOR_GATEWAY_PORT']}"


def alive(pid: int) -> bool:
    """True for a live process; a zombie (exited, not reaped yet) counts as dead."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def end_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # nothing left: fine
        os.killpg(pgid, sig)


def cmdline(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    return []


def running_supervisor() -> int | None:
    try:
        pid = int(PID_FILE.read_text())
    except (OSError, ValueError):
        return None
    # The pid may belong to an unrelated process by now if the supervisor died unclean.
    return pid if alive(pid) and any(a.endswith("cluster.py") for a in cmdline(pid)) else None


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError), path.open(errors="replace") as f:
        return "".join(deque(f, maxlen=lines))
    return "(no log)\n"


def read_state() -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        return cast(dict[str, Any], json.loads(STATE_FILE.read_text()))
    return {}


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a process in its own session (so its whole group can be signalled), output to log."""
    with log.open("ab") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    after_start: Callable[[], None] | None = None
    probe: str = ""  # answers 200 once it is ready (its /readyz)
    popen: subprocess.Popen[bytes] | None = None
    state: str = "new"  # running | backoff | failed
    restarts: int = 0
    exits: deque[float] = field(default_factory=deque)  # exit times within the last minute
    restart_at: float = 0.0

    @property
    def log(self) -> Path:
        return LOG_DIR / f"{self.name}.log"

    def start(self) -> None:
        self.popen = spawn(self.argv, self.env, self.log)
        self.state = "running"
        say(f"{self.name}: started pid {self.popen.pid}")
        if self.after_start:
            self.after_start()


class Supervisor:
    def __init__(self, env: dict[str, str], counts: dict[str, int]) -> None:
        self.env = env
        self.counts = counts
        self.procs: list[Proc] = []
        self.s3 = "external"
        self.stopping = False

    def s3_proc(self) -> Proc | None:
        host, port = host_port(self.env["CONVEYOR_S3_ENDPOINT"], 9000)
        if port_open(host, port):  # e.g. a real MinIO: reuse it
            self.ensure_bucket()
            return None
        self.s3 = "moto"
        argv = [sys.executable, str(Path(__file__).with_name("local_s3.py")), "-H", host,
                "-p", str(port)]
        return Proc("s3", argv, self.env, after_start=self.ensure_bucket)

    def ensure_bucket(self) -> None:
        """Create the bucket like compose's bucket-init does; moto forgets it on each restart."""
        from minio import Minio  # here, so that down/status/logs do not pay for the import

        env, bucket = self.env, self.env["CONVEYOR_S3_BUCKET"]
        host, port = host_port(env["CONVEYOR_S3_ENDPOINT"], 9000)
        deadline = time.monotonic() + 20
        while not port_open(host, port) and time.monotonic() < deadline:
            time.sleep(0.2)
        client = Minio(f"{host}:{port}", env["CONVEYOR_S3_ACCESS_KEY"],
                       env["CONVEYOR_S3_SECRET_KEY"], secure=env["CONVEYOR_S3_SECURE"] == "1")
        try:
            if not client.bucket_exists(bucket):
                client.make_bucket(bucket)
                say(f"s3: created bucket {bucket}")
        except Exception as exc:  # the services report S3 errors themselves; keep supervising
            say(f"s3: could not ensure bucket {bucket}: {exc}")

    def write_state(self) -> None:
        procs = [{"name": p.name, "pid": p.popen.pid if p.popen else None, "argv": p.argv,
                  "state": p.state, "restarts": p.restarts, "log": str(p.log), "probe": p.probe}
                 for p in self.procs]
        state = {"supervisor": os.getpid(), "s3": self.s3, "gateway": gateway_url(self.env),
                 "procs": procs}
        tmp = STATE_FILE.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(STATE_FILE)  # atomic: `status` never reads half a file

    def check(self, p: Proc) -> bool:
        """Notice an exit and schedule (or give up) the restart; True when the state changed."""
        now = time.monotonic()
        if p.state == "running" and p.popen and p.popen.poll() is not None:
            end_group(p.popen.pid)  # whatever the dead service had started goes with it
            p.exits.append(now)
            while now - p.exits[0] > 60:
                p.exits.popleft()
            if len(p.exits) > MAX_EXITS_PER_MINUTE:
                p.state = "failed"
                say(f"{p.name}: exited with {p.popen.returncode}; {len(p.exits)} exits within "
                    f"a minute, giving up (see {p.log})")
            else:
                delay = min(2.0 ** (len(p.exits) - 1), 30.0)
                p.state, p.restart_at = "backoff", now + delay
                say(f"{p.name}: exited with {p.popen.returncode}; restarting in {delay:.0f}s")
            return True
        if p.state == "backoff" and now >= p.restart_at:
            p.restarts += 1
            p.start()
            return True
        return False

    def terminate(self, procs: Iterable[Proc]) -> None:
        """SIGTERM each process group (a dead leader's too), SIGKILL what is left after grace."""
        started = [p.popen for p in procs if p.popen]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for popen in started:
                end_group(popen.pid, sig)
            deadline = time.monotonic() + STOP_GRACE_S
            while any(pp.poll() is None for pp in started) and time.monotonic() < deadline:
                time.sleep(0.1)

    def stop(self, *_: object) -> None:  # signal handler
        self.stopping = True

    def run(self) -> int:
        if (other := running_supervisor()) is not None and other != os.getpid():
            say(f"another supervisor is running (pid {other})")
            return 1
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        PID_FILE.write_text(f"{os.getpid()}\n")
        try:
            if s3 := self.s3_proc():
                self.procs.append(s3)
            self.procs += [Proc(p.name, [sys.executable, "-m", f"services.{p.service}"],
                                {**self.env, **p.env}, probe=p.ready_url)
                           for p in plan(SERVICES, self.counts, self.env)]
            say(f"supervisor pid {os.getpid()}, S3 {self.s3}")
            for p in self.procs:
                p.start()
            self.write_state()
            while not self.stopping:
                changed = [self.check(p) for p in self.procs]  # every proc, no short-circuit
                if any(changed):
                    self.write_state()
                time.sleep(0.5)
            say("stopping")
            return 0
        finally:
            self.terminate(p for p in self.procs if p.name != "s3")
            self.terminate(self.procs)  # S3 last: services may still write to it while stopping
            for path in (PID_FILE, STATE_FILE):
                path.unlink(missing_ok=True)


def dev_token(env: dict[str, str]) -> str:
    """The token in .run/dev-token while the gateway accepts it, else a new dev user's."""
    token = TOKEN_FILE.read_text().strip() if TOKEN_FILE.exists() else ""
    if token and http_status(f"{gateway_url(env)}/api/v1/tasks", token) != 401:
        return token
    cli = [sys.executable, "-m", "services.gateway.cli", "create-user",
           "--tenant", "dev", "--user", "dev", "--admin"]
    done = subprocess.run(cli, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"create-user failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    TOKEN_FILE.write_text(lines[-1].strip() + "\n")
    TOKEN_FILE.chmod(0o600)
    return lines[-1].strip()


def wait_all_ready(supervisor: int) -> list[str]:
    """Every process the supervisor started answers /readyz with 200; those that did not."""
    deadline = time.monotonic() + 10
    while not read_state().get("procs") and time.monotonic() < deadline:
        time.sleep(0.2)  # the supervisor writes its state once everything is started
    targets = {p["name"]: p["probe"] for p in read_state().get("procs", []) if p.get("probe")}
    if not targets:
        return ["(no state from the supervisor)"]
    return wait_ready(targets, http_status, lambda: alive(supervisor), READY_TIMEOUT_S)


def cmd_up(env: dict[str, str]) -> int:
    base = gateway_url(env)
    broker = rabbitmq_nodes.for_make_up(env, BROKER_DIR, BROKER_FIRST_PORT, say)
    pid = running_supervisor()
    if pid is None:
        if port_open(*host_port(base.removeprefix("http://"), 80)):
            print(f"{base} is already taken; set CONVEYOR_GATEWAY_PORT", file=sys.stderr)
            return 1
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        # Detached (own session, no inherited stdio): `make up` returns while it runs on.
        argv = [sys.executable, str(Path(__file__).resolve()), "run"]
        pid = spawn(argv, env, LOG_DIR / "cluster.log").pid
        print(f"started supervisor pid {pid}; waiting until every service is ready ...")
    else:
        print(f"already running (supervisor pid {pid})")
    if not_ready := wait_all_ready(pid):
        for name in ["cluster", *not_ready]:
            log = LOG_DIR / f"{name}.log"
            print(f"--- tail of {log}\n{tail(log)}", file=sys.stderr)
        print(f"not ready within {READY_TIMEOUT_S:.0f}s: {', '.join(not_ready)}; left running: "
              "see `make status`, `make logs`; stop it with `make down`", file=sys.stderr)
        return 1
    token = dev_token(env)
    s3 = ("moto: in-memory, signatures checked" if read_state().get("s3") == "moto"
          else "external")
    print(f"""
Conveyor is up (supervisor pid {pid}).
  Gateway    {base}
  Swagger    {base}/docs
  ReDoc      {base}/redoc
  WebSocket  {base.replace("http://", "ws://", 1)}/v2/stream
  RabbitMQ   {broker}
  S3         http://{env["CONVEYOR_S3_ENDPOINT"]}  ({s3}, bucket {env["CONVEYOR_S3_BUCKET"]})
  Logs       {LOG_DIR}  (make logs)
  Probes     /metrics, /livez, /readyz on each process (make status lists them)
  CLI        .venv/bin/conveyor login --url {base} --token "$CONVEYOR_TOKEN"

export CONVEYOR_TOKEN={token}""")
    return 0


def cmd_down() -> int:
    state = read_state()
    pid = running_supervisor()
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 2 * STOP_GRACE_S + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    # Children of a supervisor that was killed outright: only those still running their argv
    # (a script's shebang puts its interpreter in front, hence the suffix match).
    for p in state.get("procs", []):
        argv = p["argv"]
        if p["pid"] and alive(p["pid"]) and cmdline(p["pid"])[-len(argv):] == argv:
            end_group(p["pid"])
    for path in (PID_FILE, STATE_FILE):
        path.unlink(missing_ok=True)
    rabbitmq_nodes.stop(BROKER_DIR)  # the local broker cluster, if `up` started one
    print("stopped" if pid or state else "not running")
    return 0


def cmd_status() -> int:
    pid = running_supervisor()
    if pid is None:
        print("not running")
        return 1
    state = read_state()
    print(f"supervisor pid {pid}, S3 {state.get('s3', '?')}, gateway {state.get('gateway', '?')}")
    print(f"{'NAME':<12}{'PID':>8}  {'STATE':<9}{'RESTARTS':>9}  {'PROBES':<23}  LOG")
    for p in state.get("procs", []):
        st = "exited" if p["state"] == "running" and not alive(p["pid"]) else p["state"]
        probe = p.get("probe", "").removeprefix("http://").rpartition("/")[0] or "-"
        print(f"{p['name']:<12}{p['pid'] or '-':>8}  {st:<9}{p['restarts']:>9}  "
              f"{probe:<23}  {p['log']}")
    return 0


def cmd_logs(names: list[str], lines: int, follow: bool) -> int:
    files = [str(LOG_DIR / f"{n}.log") for n in names] or sorted(map(str, LOG_DIR.glob("*.log")))
    if not files:
        raise SystemExit(f"no logs in {LOG_DIR}")
    os.execvp("tail", ["tail", "-n", str(lines), *(["-F"] if follow else []), *files])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("up", "start everything detached and wait for the gateway"),
                       ("down", "stop everything"), ("status", "show each process"),
                       ("run", "run the supervisor in the foreground (what `up` detaches)")):
        sub.add_parser(name, help=text)
    logs = sub.add_parser("logs", help="tail the logs (cluster, s3 and the services)")
    logs.add_argument("names", nargs="*", help="e.g. gateway s3 cluster (default: all)")
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("--no-follow", dest="follow", action="store_false")
    args = parser.parse_args(argv)
    env = {**DEFAULT_ENV, **os.environ}
    counts = parse_scale(env.get("SCALE", ""), SERVICES)
    commands: dict[str, Callable[[], int]] = {
        "up": lambda: cmd_up(env), "down": cmd_down, "status": cmd_status,
        "run": Supervisor(env, counts).run,
        "logs": lambda: cmd_logs(args.names, args.lines, args.follow)}
    return commands[args.command]()


if __name__ == "__main__":
    sys.exit(main())
