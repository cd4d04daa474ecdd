"""The check every service runs at start-up: is the database schema at least what this code
expects? Running on an older schema would fail later, on some request; failing at start-up
says why.

The revision graph is read from the migration files themselves (`revision`, `down_revision`)
rather than through alembic, whose import costs more than the rest of a worker's start-up."""

import ast
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

VERSIONS = Path(__file__).with_name("migrations") / "versions"


class SchemaNotMigrated(SystemExit):
    pass


def revision_graph(versions: Path = VERSIONS) -> dict[str, tuple[str, ...]]:
    """Each revision with the revisions it builds on."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted(versions.glob("*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text(), str(path)).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id in ("revision", "down_revision")):
                values[node.targets[0].id] = ast.literal_eval(node.value)
        revision, down = values.get("revision"), values.get("down_revision")
        if isinstance(revision, str):
            parents = [down] if isinstance(down, str) else list(down or ()) \
                if isinstance(down, tuple | list) else []
            graph[revision] = tuple(str(parent) for parent in parents)
    return graph


def missing_heads(applied: set[str], graph: dict[str, tuple[str, ...]]) -> set[str]:
    """The code's heads that the applied revisions neither are nor descend from. A revision
    the code does not know (newer code migrated the database) counts as up to date."""
    if applied - graph.keys():
        return set()
    heads = graph.keys() - {parent for parents in graph.values() for parent in parents}
    reached: set[str] = set()
    pending = list(applied)
    while pending:
        revision = pending.pop()
        if revision not in reached:
            reached.add(revision)
            pending.extend(graph.get(revision, ()))
    return set(heads) - reached


async def check_migrated(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        try:
            applied = set(await conn.scalars(text("SELECT version_num FROM alembic_version")))
        except ProgrammingError:
            applied = set()
    missing = missing_heads(applied, revision_graph())
    if missing:
        raise SchemaNotMigrated(
            f"the database schema lacks migrations {sorted(missing)}: "
            "run `python -m libs.db.migrate` first")
