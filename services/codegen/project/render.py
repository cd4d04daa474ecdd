"""An AppSpec -> the files of a Kotlin / Gradle KTS Spring Boot project, from the templates next
to this file, in Jinja's sandboxed environment. Runs in a resource-capped process (the spec may
come from a model's answer); names were checked against the AppSpec schema already, and every
path is checked again by `ProjectFiles`."""

import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from proto.codegen import AppSpec, EntitySpec, FieldSpec, FieldType, Operation
from services.codegen.project.paths import ProjectFiles
from services.codegen.spec import resource_path, snake, table_name

TEMPLATES = Path(__file__).with_name("templates")
KOTLIN_TYPES = {FieldType.STRING: "String", FieldType.TEXT: "String", FieldType.INT: "Int",
                FieldType.LONG: "Long", FieldType.DECIMAL: "BigDecimal",
                FieldType.BOOLEAN: "Boolean", FieldType.DATETIME: "OffsetDateTime"}
KOTLIN_DEFAULTS = {FieldType.STRING: '""', FieldType.TEXT: '""', FieldType.INT: "0",
                   FieldType.LONG: "0L", FieldType.DECIMAL: "BigDecimal.ZERO",
                   FieldType.BOOLEAN: "false", FieldType.DATETIME: "OffsetDateTime.now()"}
SQL_TYPES = {FieldType.TEXT: "TEXT", FieldType.INT: "INTEGER", FieldType.LONG: "BIGINT",
             FieldType.DECIMAL: "NUMERIC(19, 2)", FieldType.BOOLEAN: "BOOLEAN",
             FieldType.DATETIME: "TIMESTAMPTZ"}
OPENAPI_TYPES = {FieldType.INT: ("integer", "int32"), FieldType.LONG: ("integer", "int64"),
                 FieldType.DECIMAL: ("number", None), FieldType.BOOLEAN: ("boolean", None),
                 FieldType.DATETIME: ("string", "date-time")}
SEARCH_FIELDS = ("title", "name", "keyword")


def _comment(text: str) -> str:
    """Text safe inside a KDoc comment on one line."""
    return " ".join(str(text).replace("*/", "* /").replace("/*", "/ *").split())


def _md_cell(text: str) -> str:
    return " ".join(str(text).replace("|", "\\|").split())


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES), autoescape=autoescape, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined)
    env.filters.update(
        snake=snake, kcomment=_comment, mdcell=_md_cell,
        ktype=lambda field: KOTLIN_TYPES[field.type],
        kdefault=lambda field: KOTLIN_DEFAULTS[field.type],
        capitalize_first=lambda name: name[:1].upper() + name[1:],
    )
    return env


@cache
def code_environment() -> ImmutableSandboxedEnvironment:
    return _environment(autoescape=False)


@cache
def html_environment() -> ImmutableSandboxedEnvironment:
    return _environment(autoescape=True)


def _sql_type(field: FieldSpec) -> str:
    if field.type is FieldType.STRING:
        return f"VARCHAR({field.max_length or 255})"
    return SQL_TYPES[field.type]


def _sample(field: FieldSpec, row: int) -> str:
    samples = {FieldType.INT: str(row * 3 + 1), FieldType.LONG: str(row * 100 + 7),
               FieldType.DECIMAL: f"{row * 12.5 + 9.9:.2f}", FieldType.BOOLEAN: str(row % 2 == 0),
               FieldType.DATETIME: f"2026-0{row + 1}-1{row} 10:00"}
    return samples.get(field.type, f"{field.label or field.name} {row + 1}")


def _referenced_first(spec: AppSpec) -> list[EntitySpec]:
    """Entities ordered so that a table comes after the tables it references (a cycle keeps
    the spec's order for its members)."""
    by_name = {entity.name: entity for entity in spec.entities}
    ordered: dict[str, EntitySpec] = {}

    def visit(entity: EntitySpec, path: frozenset[str]) -> None:
        if entity.name in ordered or entity.name in path:
            return
        for relation in entity.relations:
            target = by_name.get(relation.target)
            if target is not None:
                visit(target, path | {entity.name})
        ordered.setdefault(entity.name, entity)

    for entity in spec.entities:
        visit(entity, frozenset())
    return list(ordered.values())


def tables(spec: AppSpec) -> list[dict[str, Any]]:
    """Each entity's table: columns (fields, then one `<relation>_id` per relation)."""
    by_name = {entity.name: entity for entity in spec.entities}
    found = []
    for entity in _referenced_first(spec):
        columns: list[dict[str, Any]] = [
            {"name": snake(f.name), "label": f.label or f.name, "sql_type": _sql_type(f),
             "required": f.required, "unique": f.unique, "references": None}
            for f in entity.fields]
        for relation in entity.relations:
            target = by_name.get(relation.target)
            columns.append({"name": f"{snake(relation.name)}_id",
                            "label": f"{relation.name}Id", "sql_type": "BIGINT",
                            "required": relation.required, "unique": False,
                            "references": table_name(target) if target else None})
        samples = [[_sample(f, row) for f in entity.fields]
                   + ["1" for _ in entity.relations] for row in range(3)]
        found.append({"entity": entity, "table": table_name(entity), "columns": columns,
                      "samples": samples})
    return found


def _search_field(entity: EntitySpec, spec: AppSpec) -> str | None:
    wanted = any(e.entity == entity.name and e.operation is Operation.SEARCH
                 for e in spec.endpoints)
    names = [f.name for f in entity.fields if f.type in (FieldType.STRING, FieldType.TEXT)]
    return next((name for name in SEARCH_FIELDS if name in names), None) if wanted else None


def _schema(entity: EntitySpec) -> dict[str, Any]:
    properties: dict[str, Any] = {"id": {"type": "integer", "format": "int64"}}
    for field in entity.fields:
        kind, fmt = OPENAPI_TYPES.get(field.type, ("string", None))
        prop: dict[str, Any] = {"type": kind, "description": field.label}
        if fmt:
            prop["format"] = fmt
        if field.max_length and field.type is FieldType.STRING:
            prop["maxLength"] = field.max_length
        properties[field.name] = prop
    for relation in entity.relations:
        properties[f"{relation.name}Id"] = {"type": "integer", "format": "int64"}
    required = [f.name for f in entity.fields if f.required]
    required += [f"{r.name}Id" for r in entity.relations if r.required]
    return {"type": "object", "description": entity.label, "properties": properties,
            "required": required}


def openapi(spec: AppSpec) -> str:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in spec.endpoints:
        ref = {"$ref": f"#/components/schemas/{endpoint.entity}"}
        operation: dict[str, Any] = {
            "summary": endpoint.summary, "operationId": f"{endpoint.operation}{endpoint.entity}",
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"type": "array", "items": ref}
                if endpoint.operation in (Operation.LIST, Operation.SEARCH) else ref}}}}}
        if "{id}" in endpoint.path:
            operation["parameters"] = [{"name": "id", "in": "path", "required": True,
                                        "schema": {"type": "integer", "format": "int64"}}]
        if endpoint.operation is Operation.SEARCH:
            operation["parameters"] = [{"name": "keyword", "in": "query", "required": True,
                                        "schema": {"type": "string"}}]
        if endpoint.method in ("POST", "PUT"):
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": ref}}}
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    document = {"openapi": "3.0.3",
                "info": {"title": spec.app_name, "version": "0.1.0",
                         "description": spec.description},
                "paths": paths,
                "components": {"schemas": {e.name: _schema(e) for e in spec.entities}}}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render_project(spec: AppSpec, *, max_file_bytes: int,
                   max_total_bytes: int) -> dict[str, str]:
    """Every file of the project but the README (whose overview the generate agent writes)."""
    env = code_environment()
    files = ProjectFiles(max_file_bytes=max_file_bytes, max_total_bytes=max_total_bytes)
    source = "src/main/kotlin/" + spec.package_name.replace(".", "/")
    tests = "src/test/kotlin/" + spec.package_name.replace(".", "/")
    artifact = snake(spec.app_name).replace("_", "-")
    common = {"spec": spec, "artifact": artifact}
    files.add("settings.gradle.kts", env.get_template("settings.gradle.kts.j2").render(common))
    files.add("build.gradle.kts", env.get_template("build.gradle.kts.j2").render(common))
    files.add(".gitignore", "build/\n.gradle/\n*.iml\n.idea/\n")
    files.add(f"{source}/{spec.app_name}Application.kt",
              env.get_template("Application.kt.j2").render(common))
    for entity in spec.entities:
        own = [e for e in spec.endpoints if e.entity == entity.name]
        context = {**common, "entity": entity, "table": table_name(entity),
                   "endpoints": own, "base_path": resource_path(entity),
                   "search_field": _search_field(entity, spec),
                   "required_names": [f.name for f in entity.fields if f.required]
                   + [f"{r.name}Id" for r in entity.relations if r.required]}
        for folder, template, suffix in (("entity", "Entity", ""),
                                         ("repository", "Repository", "Repository"),
                                         ("dto", "Dto", "Request"),
                                         ("service", "Service", "Service"),
                                         ("controller", "Controller", "Controller")):
            files.add(f"{source}/{folder}/{entity.name}{suffix}.kt",
                      env.get_template(f"{template}.kt.j2").render(context))
        files.add(f"{tests}/{entity.name}RequestTest.kt",
                  env.get_template("RequestTest.kt.j2").render(context))
    files.add("src/main/resources/application.yml",
              env.get_template("application.yml.j2").render(common))
    files.add("src/main/resources/db/migration/V1__init.sql",
              env.get_template("V1__init.sql.j2").render({**common, "tables": tables(spec)}))
    files.add("src/main/resources/openapi.json", openapi(spec))
    return files.files


def render_readme(spec: AppSpec, *, overview: str, provider: str, app_spec_id: str) -> str:
    return code_environment().get_template("README.md.j2").render(
        spec=spec, overview=_md_cell(overview), provider=provider, app_spec_id=app_spec_id,
        tables=tables(spec))


def render_preview(spec: AppSpec, *, quality_score: int | None) -> str:
    return html_environment().get_template("preview.html.j2").render(
        spec=spec, tables=tables(spec), quality_score=quality_score)
