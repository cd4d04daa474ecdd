import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from libs.db.engine import create_engine
from libs.logging import get_logger
from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from libs.storage import Storage
from libs.worker.runtime import Worker
from services.docrender.handler import DocumentRenderer, TemplateCache
from services.docrender.office.pool import OfficePool, office_available
from services.docrender.packaging import ZipPackager

log = get_logger(__name__)


class DocrenderSettings(CommonSettings, kw_only=True):
    render_processes: int = 2  # one per core: rendering is CPU-bound
    office_instances: int = 2  # warm LibreOffice instances; 0 = no PDF from this instance
    office_max_conversions: int = 300
    office_timeout_s: float = 60.0
    prefetch: int = 8


async def run(settings: DocrenderSettings, stopping: asyncio.Event) -> None:
    storage = Storage(settings)
    office = None
    if settings.office_instances > 0 and office_available():
        office = OfficePool(settings.office_instances,
                            max_conversions=settings.office_max_conversions,
                            timeout_s=settings.office_timeout_s)
        await office.start()
    else:
        log.warning("docrender.no_pdf", reason="LibreOffice not installed or disabled")
    formats = ["docx", "pdf"] if office else ["docx"]
    # spawn, not fork: forking a process that already runs threads and an event loop is unsafe.
    renderers = ProcessPoolExecutor(settings.render_processes,
                                    mp_context=multiprocessing.get_context("spawn"))
    db = create_engine(settings.database_url, pool_size=2)
    concurrency = settings.render_processes + settings.office_instances + 2
    worker = Worker(
        settings, "docrender",
        {"documents": DocumentRenderer(storage, TemplateCache(storage), renderers, office)},
        finalizers={"documents": ZipPackager(db, storage)},
        concurrency=concurrency, prefetch=settings.prefetch,
        capabilities={"formats": formats},
    )
    try:
        await worker.run(stopping)
    finally:
        renderers.shutdown(cancel_futures=True)
        if office:
            await office.stop()
        await db.dispose()


def main() -> None:
    settings = load_settings(DocrenderSettings, "docrender")
    run_service("docrender", settings, lambda stopping: run(settings, stopping))


if __name__ == "__main__":
    main()
