from libs.service import run_service
from libs.settings import load_settings
from services.ingester.app import run
from services.ingester.settings import IngesterSettings


def main() -> None:
    settings = load_settings(IngesterSettings, "ingester")
    run_service("ingester", settings, lambda stopping: run(settings, stopping))


if __name__ == "__main__":
    main()
