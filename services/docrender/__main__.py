import asyncio

from libs.db.engine import create_engine
from libs.lifetime import process_pool
from libs.logging import get_logger
from libs.observability.probes import PROBES
from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from libs.storage import Storage
from libs.tasks.kinds import DOCUMENTS, SERVER_BATCH
from libs.worker.runtime import Worker
from libs.workflows import BUILT_IN, UnknownWorkflow, Workflow, as_capability, published
from proto.topology import server_route
from services.docrender.handler import DocumentRenderer, TemplateCache
from services.docrender.office.pool import OfficePool, office_available
from services.docrender.packaging import ZipPackager
from services.docrender.workflows import FileWorkflows

log = get_logger(__name__)


class DocrenderSettings(CommonSettings, kw_only=True):
    render_processes: int = 2  # one per core: rendering is CPU-bound
    office_instances: int = 2  # warm LibreOffice instances; 0 = no PDF from this instance
    office_max_conversions: int = 300
    office_timeout_s: float = 60.0
    prefetch: int = 8
    # Items in the handler at once: DOCX rows in flight together are rendered and stored
    # together (batching.py), and PDF rows render ahead while LibreOffice converts.
    concurrency: int = 64
    # Seed 004: a named instance (CONVEYOR_INSTANCE_NAME) is also a local batch server that
    # runs these workflows (built-ins, or aliases `name=built-in`) from its own queue.
    workflows: str = "docx-to-pdf,image-thumbnail"
    server_batch_size: int = 2


async def run(settings: DocrenderSettings, workflows: list[Workflow],
              stopping: asyncio.Event) -> None:
    storage = Storage(settings)
    office = None
    if settings.office_instances > 0 and office_available():
        office = OfficePool(settings.office_instances,
                            max_conversions=settings.office_max_conversions,
                            timeout_s=settings.office_timeout_s)
        await office.start()
        PROBES.add("office", office.check)
    else:
        log.warning("docrender.no_pdf", reason="LibreOffice not installed or disabled")
    formats = ["docx", "pdf"] if office else ["docx"]
    renderers = process_pool(settings.render_processes)  # dies with us, however we end
    db = create_engine(settings.database_url, pool_size=2)
    concurrency = max(settings.concurrency, settings.render_processes + settings.office_instances)
    files = FileWorkflows(storage, renderers, office)
    capabilities, routes = _server_capabilities(settings, workflows, files)
    worker = Worker(
        settings, "docrender",
        {DOCUMENTS.name: DocumentRenderer(storage, TemplateCache(storage), renderers,
                                          settings.render_processes, office),
         SERVER_BATCH.name: files},
        finalizers={DOCUMENTS.name: ZipPackager(db, storage)},
        concurrency=concurrency, prefetch=settings.prefetch,
        capabilities={"formats": formats, **capabilities}, routes=routes,
    )
    try:
        await worker.run(stopping)
    finally:
        renderers.shutdown(cancel_futures=True)
        if office:
            await office.stop()
        await db.dispose()


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
    try:
        workflows = published(settings.workflows, BUILT_IN)
    except UnknownWorkflow as exc:
        raise SystemExit(f"CONVEYOR_DOCRENDER_WORKFLOWS: {exc}") from exc
    run_service("docrender", settings, lambda stopping: run(settings, workflows, stopping))


if __name__ == "__main__":
    main()
