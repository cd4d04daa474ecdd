from libs.service import run_service
from libs.settings import load_settings
from services.scheduler.app import SchedulerSettings, run


def main() -> None:
    settings = load_settings(SchedulerSettings, "scheduler")
    run_service("scheduler", settings, lambda stopping: run(settings, stopping))


if __name__ == "__main__":
    main()
