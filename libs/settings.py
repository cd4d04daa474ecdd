"""Typed settings from the environment.

Common fields read `CONVEYOR_<FIELD>`; a service's own fields read `CONVEYOR_<SERVICE>_<FIELD>`
first and fall back to `CONVEYOR_<FIELD>`. Loaded once in a service's `__main__` and passed down.
"""

import os
import socket
from collections.abc import Mapping
from typing import TypeVar

import msgspec

from libs.tasks.limits import TenantDefaults
from proto.topology import VHOST

PREFIX = "CONVEYOR_"


class CommonSettings(msgspec.Struct, kw_only=True):
    env: str = "dev"  # dev: console logs; prod: JSON logs
    log_level: str = "info"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/conveyor"
    db_pool_size: int = 10
    amqp_url: str = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
    s3_endpoint: str = "127.0.0.1:9000"
    s3_public_endpoint: str = ""  # host clients use for presigned URLs; defaults to s3_endpoint
    s3_access_key: str = "conveyor"
    s3_secret_key: str = "conveyor-secret"
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    s3_bucket: str = "conveyor"
    presign_ttl_s: int = 300
    instance_name: str = ""
    heartbeat_interval_s: float = 5.0
    # CIDRs of non-public addresses that remote server URLs may use (libs/netguard.py); read by
    # the gateway (registration) and the registry (every call). Empty: public addresses only.
    server_url_allowlist: str = ""
    # The admins of this tenant are the operator (the system role): they own the servers
    # Conveyor's own instances register, may adopt them and may share their remote servers
    # with every tenant. Read by the gateway (who sees a server) and the registry (whose
    # batches a remote server may be handed).
    operator_tenant: str = "operator"
    # The probe/metrics endpoint of processes without an HTTP API (/metrics, /livez, /readyz);
    # 0 = none. Each instance on one host needs its own port (`make up` assigns them).
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    # OpenTelemetry traces: off unless an OTLP endpoint is set (libs/observability/tracing.py).
    otlp_endpoint: str = ""
    trace_sample_ratio: float = 1.0
    trace_file: str = ""  # spans as JSON lines (debugging, tests)
    # How often a process's outbox relay looks for rows another process committed and left
    # behind (killed before it published them); its own commits wake it at once.
    outbox_poll_s: float = 0.25
    # Per-tenant defaults of fair share and limits (libs/tasks/limits.py), read by the gateway
    # (creates) and the scheduler (dispatch); an operator overrides them per tenant with
    # `python -m services.gateway.cli set-limits`. 0 means no limit.
    tenant_weight: int = 1
    tenant_max_running_items: int = 0  # per kind
    tenant_max_running_tasks: int = 0  # unfinished tasks
    tenant_tasks_per_hour: int = 0

    @property
    def tenant_defaults(self) -> TenantDefaults:
        return TenantDefaults.from_settings(
            self.tenant_weight, self.tenant_max_running_items, self.tenant_max_running_tasks,
            self.tenant_tasks_per_hour)

    @property
    def json_logs(self) -> bool:
        return self.env != "dev"

    def instance(self, service: str) -> str:
        return self.instance_name or f"{service}@{socket.gethostname()}:{os.getpid()}"


S = TypeVar("S", bound=CommonSettings)


def load_settings(cls: type[S], service: str, environ: Mapping[str, str] | None = None) -> S:
    env = os.environ if environ is None else environ
    own = f"{PREFIX}{service.upper()}_"
    values: dict[str, str] = {}
    for field in msgspec.structs.fields(cls):
        key = field.name.upper()
        for name in (own + key, PREFIX + key):
            if name in env:
                values[field.name] = env[name]
                break
    try:
        return msgspec.convert(values, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise SystemExit(f"invalid configuration for {service}: {exc}") from exc
