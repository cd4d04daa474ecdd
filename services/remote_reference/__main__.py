import uvicorn

from libs.logging import configure_logging, get_logger
from libs.settings import load_settings
from services.remote_reference.app import RemoteReferenceSettings, create_app


def main() -> None:
    settings = load_settings(RemoteReferenceSettings, "remote_reference")
    configure_logging("remote_reference", json_logs=settings.json_logs, level=settings.log_level)
    get_logger(__name__).info("remote_reference.ready", host=settings.host, port=settings.port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, loop="uvloop",
                log_config=None, access_log=False, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
