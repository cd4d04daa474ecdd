"""Where the gateway checks uploads: sandboxed process pools (libs.sandbox), never its own
process. Each pool is shared by every tenant with a per-tenant bound (libs.tenant_limiter):
one tenant's hostile templates or spreadsheets wait behind each other while the other process
serves everyone else."""

from dataclasses import dataclass

from libs.sandbox import Limits, SandboxPool
from libs.tenant_limiter import TenantBoundPool

PROCESSES = 2
PER_TENANT = 1

# Checking an uploaded template compiles it and renders it once (the renderer choice); a
# hostile one must not take the gateway down, nor hold an upload long.
TEMPLATE_CHECK_LIMITS = Limits(memory_bytes=768 * 2**20, cpu_s=5, wall_s=20.0,
                               max_output_bytes=1 * 2**20)
# Reading a data source: a full sheet (10,000 rows x 200 columns) takes seconds of CPU; a
# spreadsheet whose shared strings or rows would not fit is stopped by the memory cap.
DATA_SOURCE_LIMITS = Limits(memory_bytes=768 * 2**20, cpu_s=30, wall_s=120.0)


def _load_template_checks() -> None:
    """In each sandbox process, at start: imports the checks so the first upload needn't."""
    import services.gateway.documents.uploads  # noqa: F401


def _load_data_source_readers() -> None:
    import openpyxl  # noqa: F401

    import services.gateway.documents.uploads  # noqa: F401


@dataclass(frozen=True, slots=True)
class UploadSandboxes:
    templates: TenantBoundPool
    data_sources: TenantBoundPool

    @classmethod
    def start(cls) -> "UploadSandboxes":
        return cls(
            TenantBoundPool(SandboxPool(PROCESSES, TEMPLATE_CHECK_LIMITS,
                                        name="gateway-templates",
                                        initializer=_load_template_checks),
                            PROCESSES, PER_TENANT),
            TenantBoundPool(SandboxPool(PROCESSES, DATA_SOURCE_LIMITS,
                                        name="gateway-data-sources",
                                        initializer=_load_data_source_readers),
                            PROCESSES, PER_TENANT))

    def shutdown(self) -> None:
        for pool in (self.templates, self.data_sources):
            pool.executor.shutdown(wait=False, cancel_futures=True)

    def pids(self) -> list[int]:
        """The sandbox processes now (tests)."""
        return [pid for pool in (self.templates, self.data_sources)
                if isinstance(pool.executor, SandboxPool) for pid in pool.executor.pids()]
