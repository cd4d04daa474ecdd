from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from libs.worker.runtime import Worker
from services.echo.handler import echo, echo_finalize, echo_finalize_with_crash_drill


class EchoSettings(CommonSettings, kw_only=True):
    concurrency: int = 1000
    prefetch: int = 20
    crash_drills: bool = False  # fault drills only: see echo_finalize_with_crash_drill


def main() -> None:
    settings = load_settings(EchoSettings, "echo")
    worker = Worker(
        settings, "echo", {"echo": echo},
        concurrency=settings.concurrency, prefetch=settings.prefetch,
        finalizers={"echo": echo_finalize_with_crash_drill if settings.crash_drills
                    else echo_finalize},
    )
    run_service("echo", settings, worker.run)


if __name__ == "__main__":
    main()
