"""What `cluster.py` starts: how many instances of each service (`SCALE="echo=2 docrender=2"`),
and each instance's name, ports and environment; and the wait for every one of them to be
ready (its /readyz answering 200; the reference remote server's /health).

Ports: gateway instance k listens on CONVEYOR_GATEWAY_PORT + k (8000, 8001, ...); every
process (each gateway too: its public port serves no metrics) gets its probe/metrics endpoint
on CONVEYOR_METRICS_PORT_BASE + n (9100, 9101, ...), in the order below, so
`deploy/prometheus` can list them."""

from __future__ import annotations

import contextlib
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

METRICS_PORT_BASE = 9100


@dataclass(frozen=True)
class Planned:
    name: str  # the process's name in status and logs: the service, or service-<k> when scaled
    service: str
    env: dict[str, str]  # what this instance adds to the cluster's environment
    ready_url: str  # answers 200 once the instance is ready


def parse_scale(text: str, services: Iterable[str]) -> dict[str, int]:
    """`"echo=2 docrender=2"` (spaces or commas) -> a count per service, 1 for the others."""
    counts = dict.fromkeys(services, 1)
    for part in text.replace(",", " ").split():
        name, sep, count = part.partition("=")
        if not sep or name not in counts or not count.isdigit():
            raise SystemExit(f"SCALE: {part!r} is not <service>=<count> with a service of "
                             f"{', '.join(counts)}")
        counts[name] = int(count)
    return counts


def plan(services: Iterable[str], counts: Mapping[str, int],
         env: Mapping[str, str]) -> list[Planned]:
    gateway_port = int(env["CONVEYOR_GATEWAY_PORT"])
    metrics_port = int(env.get("CONVEYOR_METRICS_PORT_BASE", METRICS_PORT_BASE))
    host = env.get("CONVEYOR_GATEWAY_HOST", "127.0.0.1").replace("0.0.0.0", "127.0.0.1")
    planned: list[Planned] = []
    for service in services:
        count = counts.get(service, 1)
        for k in range(count):
            name = service if count == 1 else f"{service}-{k + 1}"
            own: dict[str, str] = {}
            if service == "gateway":
                port = gateway_port + k
                own["CONVEYOR_GATEWAY_PORT"] = str(port)
                own["CONVEYOR_METRICS_PORT"] = str(metrics_port)
                metrics_port += 1
                probe = f"http://{host}:{port}/readyz"
            elif service == "remote_reference":  # not Conveyor: its own protocol's /health
                ref_host = env.get("CONVEYOR_REMOTE_REFERENCE_HOST", "127.0.0.2")
                ref_port = int(env.get("CONVEYOR_REMOTE_REFERENCE_PORT", "8100")) + k
                own["CONVEYOR_REMOTE_REFERENCE_PORT"] = str(ref_port)
                probe = f"http://{ref_host}:{ref_port}/health"
            else:
                own["CONVEYOR_METRICS_PORT"] = str(metrics_port)
                probe = f"http://127.0.0.1:{metrics_port}/readyz"
                metrics_port += 1
            # A named instance (docrender-1, a local batch server) gets a name per instance.
            named = env.get(f"CONVEYOR_{service.upper()}_INSTANCE_NAME", "")
            if named and count > 1:
                base = named.rsplit("-", 1)[0] if named[-1:].isdigit() else named
                own[f"CONVEYOR_{service.upper()}_INSTANCE_NAME"] = f"{base}-{k + 1}"
            planned.append(Planned(name, service, own, probe))
    return planned


def wait_ready(targets: Mapping[str, str], status: Callable[[str], int | None],
               alive: Callable[[], bool], timeout_s: float) -> list[str]:
    """Poll every target's readiness URL until each answers 200; returns those that never
    did."""
    waiting = dict(targets)
    deadline = time.monotonic() + timeout_s
    while waiting and time.monotonic() < deadline and alive():
        for name, url in list(waiting.items()):
            if status(url) == 200:
                del waiting[name]
        if waiting:
            time.sleep(0.5)
    return sorted(waiting)


def http_status(url: str, token: str = "") -> int | None:
    """The response's status code, or None when nothing answered."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # local: no *_proxy
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def host_port(endpoint: str, default_port: int) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":") if ":" in endpoint else (endpoint, "", "")
    return host, int(port or default_port)


def port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False
