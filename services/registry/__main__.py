from libs.service import run_service
from libs.settings import load_settings
from services.registry.app import RegistrySettings, run


def main() -> None:
    settings = load_settings(RegistrySettings, "registry")
    run_service("registry", settings, lambda stopping: run(settings, stopping))


if __name__ == "__main__":
    main()
