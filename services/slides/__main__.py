from libs.service import run_service
from libs.settings import load_settings
from services.slides.app import run
from services.slides.settings import SlidesSettings


def main() -> None:
    settings = load_settings(SlidesSettings, "slides")
    run_service("slides", settings, lambda stopping: run(settings, stopping))


if __name__ == "__main__":
    main()
