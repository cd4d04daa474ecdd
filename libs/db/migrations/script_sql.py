"""asyncpg prepares every statement and refuses several in one, so a migration's SQL script is
split into statements here. Statements end with `;` at the end of a line; keep function
bodies free of that pattern."""

from alembic import op


def execute_script(script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)
