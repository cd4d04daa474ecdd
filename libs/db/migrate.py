"""`python -m libs.db.migrate [revision]`: upgrade the database in CONVEYOR_DATABASE_URL.

Each service's tables are their own alembic branch off `0001` (the foundation), so services
evolve their schemas independently; the default target is therefore `heads`, every branch."""

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from libs.settings import CommonSettings, load_settings

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def main() -> None:
    settings = load_settings(CommonSettings, "migrate")
    revision = sys.argv[1] if len(sys.argv) > 1 else "heads"
    command.upgrade(alembic_config(settings.database_url), revision)


if __name__ == "__main__":
    main()
