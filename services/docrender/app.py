"""Wires docrender: the render process pool, the warm LibreOffice pool, the DOCX renderer and
ZIP packager of the documents kind, and (for a named instance) the local batch server's
workflows, all in the worker runtime."""

from functools import partial

from libs.lifecycle import Runtime, Service
from libs.logging import get_logger
from libs.observability.probes import PROBES
from libs.office.pool import OfficePool, office_available
from libs.sandbox import Limits, SandboxPool
from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from libs.tasks.kinds import DOCUMENTS, SERVER_BATCH
from libs.worker.runtime import Worker
from libs.workflows import BUILT_IN, UnknownWorkflow, Workflow, as_capability, published
from proto.topology import server_route
from services.docrender.handler import DocumentRenderer, TemplateCache
from services.docrender.packaging import ZipPackager
from services.docrender.workflows import FileWorkflows

log = get_logger(__name__)


class DocrenderSettings(CommonSettings, kw_only=True):
    render_processes: int = 2  # one per core: rendering is CPU-bound
    # Every render (and thumbnail) runs under these; exceeding one fails the item for good.
    render_memory_mb: int = 1024
    render_cpu_s: int = 30
    render_wall_s: float = 60.0  # below the item timeout: the render dies before the item
    render_max_output_mb: int = 100
    office_instances: int = 2  # warm LibreOffice instances; 0 = no PDF from this instance
    office_max_conversions: int = 300
    office_timeout_s: float = 60.0  # wall time per conversion
    office_memory_mb: int = 2048  # LibreOffice's address space
    office_cpu_s: int = 60  # CPU time per conversion
    # Profiles and conversion files: in memory by default ("" = the system temp dir).
    office_scratch_dir: str = "/dev/shm"
    prefetch: int = 16
    # Items in the handler at once: DOCX rows in flight together are rendered and stored
    # together (batching.py), and PDF rows render ahead while LibreOffice converts.
    concurrency: int = 256
    # Seed 004: a named instance (CONVEYOR_INSTANCE_NAME) is also a local batch server that
    # runs these workflows (built-ins, or aliases `name=built-in`) from its own queue.
    workflows: str = "docx-to-pdf,image-thumbnail"
    server_batch_size: int = 2


def published_workflows(settings: DocrenderSettings) -> list[Workflow]:
    try:
        return published(settings.workflows, BUILT_IN)
    except UnknownWorkflow as exc:
        raise SystemExit(f"CONVEYOR_DOCRENDER_WORKFLOWS: {exc}") from exc


async def build(settings: DocrenderSettings, runtime: Runtime) -> Service:
    workflows = published_workflows(settings)
    storage = runtime.storage
    office = None
    if settings.office_instances > 0 and office_available():
        office = OfficePool(settings.office_instances,
                            max_conversions=settings.office_max_conversions,
                            limits=office_limits(settings),
                            scratch=settings.office_scratch_dir)
        await office.start()
        runtime.exits.push_async_callback(office.stop)
        PROBES.add("office", office.check)
    else:
        log.warning("docrender.no_pdf", reason="LibreOffice not installed or disabled")
    formats = ["docx", "pdf"] if office else ["docx"]
    # Dies with us, however we end (libs.lifetime), and caps every render (libs.sandbox).
    renderers = SandboxPool(settings.render_processes, render_limits(settings), name="render")
    runtime.exits.callback(renderers.shutdown, cancel_futures=True)
    concurrency = max(settings.concurrency, settings.render_processes + settings.office_instances)
    files = FileWorkflows(storage, renderers, office)
    capabilities, routes = _server_capabilities(settings, workflows, files)
    worker = Worker(
        runtime,
        {DOCUMENTS.name: DocumentRenderer(storage, TemplateCache(storage), renderers,
                                          settings.render_processes, office,
                                          settings.office_instances),
         SERVER_BATCH.name: files},
        finalizers={DOCUMENTS.name: ZipPackager(runtime.db, storage)},
        concurrency=concurrency, prefetch=settings.prefetch,
        capabilities={"formats": formats, **capabilities}, routes=routes,
    )
    return Service([worker], worker.capabilities)


def render_limits(settings: DocrenderSettings) -> Limits:
    return Limits(memory_bytes=settings.render_memory_mb * 2**20, cpu_s=settings.render_cpu_s,
                  wall_s=settings.render_wall_s,
                  max_output_bytes=settings.render_max_output_mb * 2**20)


def office_limits(settings: DocrenderSettings) -> Limits:
    return Limits(memory_bytes=settings.office_memory_mb * 2**20, cpu_s=settings.office_cpu_s,
                  wall_s=settings.office_timeout_s,
                  max_output_bytes=settings.render_max_output_mb * 2**20)


def _server_capabilities(
    settings: DocrenderSettings, wanted: list[Workflow], files: FileWorkflows
) -> tuple[dict[str, object], list[str]]:
    """What a named instance announces as a local server, and the queues it consumes."""
    if not settings.instance_name:
        return {}, [DOCUMENTS.name]  # an anonymous instance cannot be addressed
    workflows = [w for w in wanted if w.implementation in files.available]
    if len(workflows) < len(wanted):
        log.warning("docrender.workflows_unavailable",
                    missing=[w.name for w in wanted if w not in workflows])
    return ({"server": settings.instance_name, "workflows": as_capability(workflows),
             "batch_size": settings.server_batch_size},
            [DOCUMENTS.name, server_route(settings.instance_name)])


def main() -> None:
    settings = load_settings(DocrenderSettings, "docrender")
    run_service("docrender", settings, partial(build, settings))
