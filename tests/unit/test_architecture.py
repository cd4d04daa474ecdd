"""The rules that keep the structure what docs/architecture.md says it is. Each test reads the
source tree (nothing runs), so a change that breaks a rule fails here, not in review."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_ROOTS = ("services", "libs", "proto", "bench", "scripts")
TASK_DOMAIN = ROOT / "libs" / "tasks"
# The schema itself (CREATE TABLE tasks ...) is the migrations' business, not a use of it.
MIGRATIONS = ROOT / "libs" / "db" / "migrations"

TASK_TABLE_SQL = re.compile(
    r"\b(?:FROM|JOIN|UPDATE|INTO|TABLE|USING)\s+(?:ONLY\s+)?"
    r"(tasks|task_items|task_stages|task_transitions|outbox)\b"
)


def _python_files(*roots: str) -> list[Path]:
    return sorted(path for root in roots for path in (ROOT / root).rglob("*.py")
                  # not virtualenvs: .venv, and bench/.peer-venv (the Celery peer's own)
                  if not any(part.endswith("venv") for part in path.parts))


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_rules_see_the_code() -> None:
    """Guards the guards: the scans below would pass vacuously on an empty or moved tree."""
    files = _python_files(*CODE_ROOTS)
    assert len(files) > 150
    assert any(TASK_TABLE_SQL.search(p.read_text()) for p in TASK_DOMAIN.glob("*.py"))
    assert "services.gateway.errors" in _imports(ROOT / "services" / "gateway" / "app.py")


def test_task_table_sql_only_in_the_task_domain() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)}"
        for path in _python_files(*CODE_ROOTS)
        if not path.is_relative_to(TASK_DOMAIN) and not path.is_relative_to(MIGRATIONS)
        for text in [path.read_text()]
        for match in TASK_TABLE_SQL.finditer(text)
    ]
    assert not offenders, "SQL on the task tables belongs in libs/tasks/:\n" + "\n".join(offenders)


def test_no_service_imports_another_service() -> None:
    offenders = []
    for path in _python_files("services"):
        own = path.relative_to(ROOT / "services").parts[0]
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "services" and len(parts) > 1 and parts[1] != own:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "a service reaches another only by messages:\n" + "\n".join(offenders)


def test_layers_point_one_way() -> None:
    """proto/ depends on nothing of the project; libs/ on no service."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for layer, forbidden in (("proto", ("libs", "services")), ("libs", ("services",)))
        for path in _python_files(layer)
        for name in _imports(path)
        if name.split(".")[0] in forbidden
    ]
    assert not offenders, "\n".join(offenders)


def test_no_file_over_400_lines() -> None:
    long = [f"{path.relative_to(ROOT)}: {n}" for path in _python_files(*CODE_ROOTS, "tests")
            if (n := len(path.read_text().splitlines())) > 400]
    assert not long, "split these files:\n" + "\n".join(long)


GATEWAY = ROOT / "services" / "gateway"
# Directories of the gateway that are not API areas: authentication (middleware, tokens), the
# web console (static files served by one route module) and the Idempotency-Key middleware of
# every create route.
NOT_AREAS = {"auth", "console", "idempotency", "__pycache__"}
AREA_FILES = ("routes.py", "service.py", "presenters.py")
OPENS_A_TRANSACTION = re.compile(r"\.(begin|connect)\(\)")
SQL_CALL = re.compile(r"(?<![\w.])text\(|from sqlalchemy import text")


def _areas() -> list[Path]:
    return sorted(p for p in GATEWAY.iterdir() if p.is_dir() and p.name not in NOT_AREAS)


def test_every_gateway_area_has_the_same_files() -> None:
    areas = _areas()
    assert {a.name for a in areas} >= {"tasks", "documents", "kb", "servers", "slides", "stream"}
    missing = [f"{area.name}/{name}" for area in areas for name in AREA_FILES
               if not (area / name).exists()]
    assert not missing, "each API area has routes, service and presenters: " + str(missing)
    stray = [str(p.relative_to(ROOT)) for area in areas for p in area.glob("*routes*.py")
             if p.name != "routes.py"]
    assert not stray, "route modules are named routes.py: " + str(stray)


def test_gateway_sql_only_in_repositories_and_transactions_only_in_services() -> None:
    offenders = []
    for path in _python_files("services/gateway"):
        text = path.read_text()
        if SQL_CALL.search(text) and path.name not in ("repository.py", "cli.py"):
            offenders.append(f"{path.relative_to(ROOT)}: SQL outside a repository")
        if path.name == "routes.py" and OPENS_A_TRANSACTION.search(text):
            offenders.append(f"{path.relative_to(ROOT)}: a handler opens a connection")
        if path.name == "routes.py" and "app.state" in text:
            offenders.append(f"{path.relative_to(ROOT)}: reaches the app state, not DI")
    assert not offenders, "\n".join(offenders)


def test_every_service_is_wired_in_its_app_and_main_only_runs_it() -> None:
    for service in sorted(p for p in (ROOT / "services").iterdir() if (p / "__main__.py").exists()):
        main = (service / "__main__.py").read_text()
        assert (service / "app.py").exists(), service.name
        assert f"from services.{service.name}.app import main" in main, service.name
        assert len([line for line in main.splitlines() if line.strip()]) <= 3, service.name


PUBLISH_CALLS = {"publish", "publish_many", "publish_envelope"}
# Who may publish directly; everything a task transaction decides goes through the outbox.
PUBLISHERS = {
    "libs/messaging/publisher.py": "the publisher itself",
    "libs/tasks/relay.py": "the outbox relay",
    "libs/messaging/rpc.py": "RPC requests and their replies",
    "libs/worker/reporter.py": "workers' result stream (a report is idempotent by attempt)",
    "libs/worker/runtime.py": "workers' result stream (a report is idempotent by attempt)",
    "libs/heartbeat.py": "the heartbeat stream",
    "services/gateway/auth/revocations.py": "the token revocation broadcast",
    "services/registry/app.py": "instance liveness broadcasts (registry state, no task)",
    "services/registry/servers/watch.py": "server health broadcasts (registry state, no task)",
    "bench/engine.py": "the bare broker baseline",
}


def test_no_publish_outside_the_outbox_relay_and_the_stream_paths() -> None:
    offenders = []
    for path in _python_files(*CODE_ROOTS):
        relative = str(path.relative_to(ROOT))
        if relative in PUBLISHERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in PUBLISH_CALLS):
                offenders.append(f"{relative}:{node.lineno}: {node.func.attr}")
    assert not offenders, (
        "task state changes publish through the outbox (TaskUnitOfWork.send):\n"
        + "\n".join(offenders))
    stale = [name for name in PUBLISHERS if not (ROOT / name).exists()]
    assert not stale, f"allowed publishers that no longer exist: {stale}"


# Reading a kind's params or payloads by string key, outside the gateway (which writes them).
DICT_READ = re.compile(r"\.(params|payload)(\[|\.get\()")
# Workers of kinds that have no contract in proto/contracts.py yet, and that kind: once the
# kind has one, its workers read structs and the entry goes.
UNTYPED_WORKERS = {
    "services/docrender/workflows.py": "server_batch",
    "services/registry/servers/remote_batch.py": "server_batch",
}


def test_workers_read_their_kinds_contract_structs_not_dicts() -> None:
    from proto.contracts import KIND_CONTRACTS

    offenders = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)}"
        for path in _python_files("services", "libs")
        if not path.is_relative_to(GATEWAY)
        and str(path.relative_to(ROOT)) not in UNTYPED_WORKERS
        for text in [path.read_text()]
        for match in DICT_READ.finditer(text)
    ]
    assert not offenders, "decode params and payloads with proto/contracts.py:\n" + "\n".join(
        offenders)
    typed = {path: kind for path, kind in UNTYPED_WORKERS.items() if kind in KIND_CONTRACTS}
    assert not typed, f"these kinds have contracts now; read their structs: {typed}"
