import uvicorn

from libs.logging import configure_logging
from libs.observability import tracing
from libs.observability.asgi import observe_http
from libs.settings import load_settings
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings


def main() -> None:
    settings = load_settings(GatewaySettings, "gateway")
    configure_logging("gateway", json_logs=settings.json_logs, level=settings.log_level)
    tracing.configure("gateway", settings)
    uvicorn.run(
        observe_http(create_app(settings)), host=settings.host, port=settings.port, loop="uvloop",
        log_config=None, access_log=False, ws="websockets-sansio", ws_max_size=64 * 1024,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
