"""Spec rules every provider shares: the REST endpoints of an entity, table and column names,
and a package name when the client gave none."""

import re

from proto.codegen import AppSpec, EndpointSpec, EntitySpec, Operation, Plan


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def kebab(name: str) -> str:
    return snake(name).replace("_", "-")


def plural(word: str) -> str:
    if word.endswith("s"):
        return word
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        return f"{word[:-1]}ies"
    return f"{word}s"


def table_name(entity: EntitySpec) -> str:
    return plural(snake(entity.name))


def resource_path(entity: EntitySpec) -> str:
    return f"/api/{plural(kebab(entity.name))}"


def crud_endpoints(entity: EntitySpec, *, search: bool) -> list[EndpointSpec]:
    path = resource_path(entity)
    label = entity.label or entity.name
    endpoints = [
        EndpointSpec(method="GET", path=path, entity=entity.name, operation=Operation.LIST,
                     summary=f"{label}列表"),
        EndpointSpec(method="GET", path=f"{path}/{{id}}", entity=entity.name,
                     operation=Operation.GET, summary=f"{label}详情"),
        EndpointSpec(method="POST", path=path, entity=entity.name, operation=Operation.CREATE,
                     summary=f"新建{label}"),
        EndpointSpec(method="PUT", path=f"{path}/{{id}}", entity=entity.name,
                     operation=Operation.UPDATE, summary=f"修改{label}"),
        EndpointSpec(method="DELETE", path=f"{path}/{{id}}", entity=entity.name,
                     operation=Operation.DELETE, summary=f"删除{label}"),
    ]
    if search:
        endpoints.append(EndpointSpec(method="GET", path=f"{path}/search", entity=entity.name,
                                      operation=Operation.SEARCH, summary=f"搜索{label}"))
    return endpoints


def searchable(entity: EntitySpec) -> bool:
    return any(field.name in ("title", "name", "keyword") for field in entity.fields)


def spec_from_plan(plan: Plan, package_name: str, *, search: bool) -> AppSpec:
    """The plan as a spec with every entity's CRUD endpoints (and search, when asked for)."""
    return AppSpec(
        app_name=plan.app_name, package_name=package_name, description=plan.summary,
        entities=list(plan.entities),
        endpoints=[endpoint for entity in plan.entities
                   for endpoint in crud_endpoints(entity, search=search and searchable(entity))],
        roles=list(plan.roles), features=list(plan.features),
    )


def default_package(app_name: str) -> str:
    return f"com.example.{re.sub(r'[^a-z0-9]', '', app_name.lower()) or 'app'}"
