"""The lock files: the runtime lock (what the images install) holds every runtime dependency
and no test or lint tool; the dev lock holds the rest; nothing is pinned twice differently."""

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEV_TOOLS = {"pytest", "pytest-asyncio", "moto", "ruff", "mypy", "playwright", "boto3"}


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            package, _, version = line.partition("==")
            pins[canonicalize_name(re.sub(r"\[.*\]", "", package))] = version
    return pins


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution the requirements pull in, from the installed metadata."""
    seen: set[str] = set()
    stack = [Requirement(r) for r in requirements]
    while stack:
        req = stack.pop()
        name = canonicalize_name(req.name)
        extras = set(req.extras) or {""}
        if name in seen and not req.extras:
            continue
        seen.add(name)
        for raw in md.distribution(req.name).requires or []:
            dep = Requirement(raw)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in extras):
                stack.append(dep)
    return seen


def test_runtime_lock_has_every_runtime_dependency_and_no_dev_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _pins("requirements.lock")
    missing = _closure(project["dependencies"]) - set(runtime)
    assert not missing, f"runtime dependencies not in requirements.lock: {missing}"
    assert not DEV_TOOLS & set(runtime)
    dev = _pins("requirements-dev.lock")
    assert DEV_TOOLS <= set(dev)
    dev_direct = {canonicalize_name(Requirement(r).name)
                  for r in project["optional-dependencies"]["dev"]}
    assert dev_direct <= set(dev)


def test_no_package_is_pinned_twice_differently() -> None:
    locks = [_pins(name) for name in ("requirements.lock", "requirements-dev.lock",
                                      "requirements-ingester.lock")]
    for i, first in enumerate(locks):
        for second in locks[i + 1:]:
            for name in set(first) & set(second):
                assert first[name] == second[name], name
