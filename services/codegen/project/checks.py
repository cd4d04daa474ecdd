"""The validate agent's checks, each worth a share of the 100-point quality score: every Kotlin
file parses (tree-sitter's Kotlin grammar), relations point at entities that exist, every
endpoint maps to an entity and every entity has endpoints, names are unique and legal, and the
SQL migration parses (sqlglot, PostgreSQL dialect) and matches the entities column by column."""

from collections.abc import Callable
from functools import cache

import sqlglot
import tree_sitter
import tree_sitter_kotlin
from sqlglot import exp

from proto.codegen import KOTLIN_KEYWORDS, AppSpec, Check, QualityReport
from services.codegen.project.render import tables
from services.codegen.spec import table_name

MIGRATION = "src/main/resources/db/migration/V1__init.sql"
WEIGHTS = {"kotlin_parses": 35, "relations_resolve": 15, "endpoints_map": 15,
           "names_legal": 15, "migration_matches": 20}
MAX_DETAILS = 5


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_kotlin.language()))


def kotlin_errors(files: dict[str, str]) -> tuple[int, list[str]]:
    """How many Kotlin files (.kt, .kts) there are, and those that do not parse."""
    kotlin = [path for path in files if path.endswith((".kt", ".kts"))]
    bad = [path for path in kotlin if _parser().parse(files[path].encode()).root_node.has_error]
    return len(kotlin), bad


def _check(name: str, problems: list[str], ok_detail: str) -> Check:
    weight = WEIGHTS[name]
    shown = "; ".join(problems[:MAX_DETAILS]) + (" …" if len(problems) > MAX_DETAILS else "")
    return Check(name=name, passed=not problems, weight=weight,
                 score=0 if problems else weight, detail=shown if problems else ok_detail)


def _relations(spec: AppSpec) -> list[str]:
    names = {entity.name for entity in spec.entities}
    return [f"{e.name}.{r.name} -> {r.target} (no such entity)"
            for e in spec.entities for r in e.relations if r.target not in names]


def _endpoints(spec: AppSpec) -> list[str]:
    names = {entity.name for entity in spec.entities}
    problems = [f"{e.method} {e.path} -> {e.entity} (no such entity)"
                for e in spec.endpoints if e.entity not in names]
    served = {e.entity for e in spec.endpoints}
    problems += [f"{name} has no endpoint" for name in sorted(names - served)]
    routes = [(e.method, e.path) for e in spec.endpoints]
    problems += [f"{m} {p} twice" for m, p in sorted(set(routes)) if routes.count((m, p)) > 1]
    return problems


def _names(spec: AppSpec) -> list[str]:
    problems = []
    folded = [entity.name.lower() for entity in spec.entities]
    problems += [f"entity {n} twice" for n in sorted(set(folded)) if folded.count(n) > 1]
    tables_ = [table_name(entity) for entity in spec.entities]
    problems += [f"table {t} twice" for t in sorted(set(tables_)) if tables_.count(t) > 1]
    for entity in spec.entities:
        members = ["id", *(f.name for f in entity.fields),
                   *(f"{r.name}Id" for r in entity.relations)]
        problems += [f"{entity.name}.{m} twice" for m in sorted(set(members))
                     if members.count(m) > 1]
        problems += [f"{entity.name}.{m} is a Kotlin keyword" for m in members
                     if m in KOTLIN_KEYWORDS]
        if entity.name in KOTLIN_KEYWORDS:
            problems.append(f"{entity.name} is a Kotlin keyword")
    return problems


def _migration(spec: AppSpec, files: dict[str, str]) -> list[str]:
    sql = files.get(MIGRATION)
    if sql is None:
        return ["no migration"]
    try:
        statements = sqlglot.parse(sql, read="postgres")
    except sqlglot.errors.ParseError as exc:
        return [f"migration does not parse: {str(exc).splitlines()[0]}"]
    found: dict[str, set[str]] = {}
    for statement in statements:
        if isinstance(statement, exp.Create) and isinstance(statement.this, exp.Schema):
            table = statement.this.this.name
            found[table] = {c.name for c in statement.this.expressions
                            if isinstance(c, exp.ColumnDef)}
    problems = []
    for expected in tables(spec):
        columns = found.pop(expected["table"], None)
        if columns is None:
            problems.append(f"table {expected['table']} missing")
            continue
        wanted = {"id", *(column["name"] for column in expected["columns"])}
        if columns != wanted:
            problems.append(f"{expected['table']} columns differ: "
                            f"{sorted(columns ^ wanted)}")
    problems += [f"table {table} has no entity" for table in sorted(found)]
    return problems


def quality_report(spec: AppSpec, files: dict[str, str]) -> QualityReport:
    total, bad = kotlin_errors(files)
    weight = WEIGHTS["kotlin_parses"]
    parsed = Check(
        name="kotlin_parses", passed=not bad, weight=weight,
        score=round(weight * (total - len(bad)) / total) if total else 0,
        detail=(f"{total - len(bad)} of {total} files parse; not: {', '.join(bad[:5])}"
                if bad else f"{total} Kotlin files parse"))
    rules: list[tuple[str, Callable[[], list[str]], str]] = [
        ("relations_resolve", lambda: _relations(spec), "every relation has its entity"),
        ("endpoints_map", lambda: _endpoints(spec), f"{len(spec.endpoints)} endpoints map"),
        ("names_legal", lambda: _names(spec), "names unique and legal"),
        ("migration_matches", lambda: _migration(spec, files),
         f"{len(spec.entities)} tables match their entities"),
    ]
    checks = [parsed, *(_check(name, run(), ok) for name, run, ok in rules)]
    return QualityReport(score=sum(c.score for c in checks), checks=checks,
                         files_checked=len(files))
