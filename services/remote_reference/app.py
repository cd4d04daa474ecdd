"""The reference remote server's HTTP API: exactly docs/remote-protocol.md."""

import contextlib
from collections.abc import AsyncIterator

import uvicorn
from litestar import Litestar, Response, delete, get, post
from litestar.datastructures import State

from libs.logging import configure_logging, get_logger
from libs.office.pool import OfficePool, office_available
from libs.settings import CommonSettings, load_settings
from proto.remote import BatchStatus, Health, SubmitBatch
from services.remote_reference.processor import Processor, Rejected


class RemoteReferenceSettings(CommonSettings, kw_only=True):
    # A loopback address of its own: allow-listing it (127.0.0.2/32) admits nothing else.
    host: str = "127.0.0.2"
    port: int = 8100
    max_parallel: int = 4  # files converted at once, whatever the batches
    max_batch_size: int = 64
    office_instances: int = 1  # 0: no docx-to-pdf


@get("/health")
async def health(state: State) -> Health:
    processor: Processor = state.processor
    return processor.health()


@post("/batches", status_code=202)
async def submit(data: SubmitBatch, state: State) -> Response[object]:
    processor: Processor = state.processor
    try:
        return Response(processor.submit(data), status_code=202)
    except Rejected as exc:
        return Response({"error": str(exc)}, status_code=400)


@get("/batches/{batch_id:str}")
async def batch_status(batch_id: str, state: State) -> Response[object]:
    processor: Processor = state.processor
    found: BatchStatus | None = processor.status(batch_id)
    if found is None:
        return Response({"error": f"no batch {batch_id}"}, status_code=404)
    return Response(found)


@delete("/batches/{batch_id:str}", status_code=204)
async def cancel(batch_id: str, state: State) -> None:
    processor: Processor = state.processor
    processor.cancel(batch_id)


def create_app(settings: RemoteReferenceSettings) -> Litestar:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        office = None
        if settings.office_instances > 0 and office_available():
            office = OfficePool(settings.office_instances, max_conversions=300)
            await office.start()
        processor = Processor(settings.instance("remote_reference"), office,
                              max_parallel=settings.max_parallel,
                              max_batch_size=settings.max_batch_size)
        app.state.update(processor=processor)
        try:
            yield
        finally:
            await processor.close()
            if office is not None:
                await office.stop()

    return Litestar(route_handlers=[health, submit, batch_status, cancel], lifespan=[lifespan],
                    debug=False, logging_config=None, openapi_config=None)


def main() -> None:
    settings = load_settings(RemoteReferenceSettings, "remote_reference")
    configure_logging("remote_reference", json_logs=settings.json_logs, level=settings.log_level)
    get_logger(__name__).info("remote_reference.ready", host=settings.host, port=settings.port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, loop="uvloop",
                log_config=None, access_log=False, timeout_graceful_shutdown=5)
