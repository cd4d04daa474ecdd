"""Test harness: per-run infrastructure and services as real processes (see tests/conftest.py)."""

from tests.harness.cluster import Cluster, ServiceHandle, create_user
from tests.harness.infra import (
    S3Endpoint,
    free_port,
    postgres_restart,
    rabbitmq_restart,
    rabbitmq_stopped,
)

__all__ = ["Cluster", "S3Endpoint", "ServiceHandle", "create_user", "free_port", "postgres_restart",
           "rabbitmq_restart", "rabbitmq_stopped"]
