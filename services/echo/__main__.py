from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from libs.worker.runtime import Worker
from services.echo.handler import echo, echo_finalize


class EchoSettings(CommonSettings, kw_only=True):
    concurrency: int = 1000
    prefetch: int = 20


def main() -> None:
    settings = load_settings(EchoSettings, "echo")
    worker = Worker(
        settings, "echo", {"echo": echo},
        concurrency=settings.concurrency, prefetch=settings.prefetch,
        finalizers={"echo": echo_finalize},
    )
    run_service("echo", settings, worker.run)


if __name__ == "__main__":
    main()
