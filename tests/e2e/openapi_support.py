"""Helpers of the OpenAPI contract tests: reading schemas out of the document, validating
real answers against them, and a generated client in its own virtualenv."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS31Validator

# The generator is a dev tool, not a dependency of Conveyor: it lives in a virtualenv of its
# own (kept between runs), never in requirements.lock.
GENERATOR = "openapi-python-client==0.29.1"
GENERATOR_VENV = Path(tempfile.gettempdir()) / "conveyor-openapi-python-client-0.29.1"

Doc = dict[str, Any]


def operations(doc: Doc) -> list[tuple[str, str, Doc]]:
    return [(method, path, op) for path, item in doc["paths"].items()
            for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]


def resolve(doc: Doc, schema: Doc) -> Doc:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if len(schema.get("allOf", ())) == 1:  # a $ref with examples or a title beside it
        return resolve(doc, schema["allOf"][0])
    return schema


def is_typed(doc: Doc, schema: Doc) -> bool:
    """An object with declared properties, or an array of such: not a bare `object`."""
    schema = resolve(doc, schema)
    if schema.get("type") == "array":
        return is_typed(doc, schema.get("items", {}))
    return schema.get("type") == "object" and bool(schema.get("properties"))


def validate_answer(doc: Doc, method: str, path: str, status: int, body: Any) -> None:
    """`body` (a real answer) against the document's schema for it; raises on a mismatch."""
    response = doc["paths"][path][method]["responses"][str(status)]
    schema = next(iter(response["content"].values()))["schema"]
    OAS31Validator({**schema, "components": doc["components"]}).validate(body)


async def _run(*argv: str | Path, env: dict[str, str] | None = None, timeout_s: float = 600,
               ) -> str:
    process = await asyncio.create_subprocess_exec(
        *map(str, argv), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=env)
    out, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    text = out.decode(errors="replace")
    assert process.returncode == 0, f"{argv[0]} exited {process.returncode}:\n{text[-4000:]}"
    return text


async def generator_python() -> Path:
    python = GENERATOR_VENV / "bin" / "python"
    if not (GENERATOR_VENV / ".ready").exists():
        await _run(sys.executable, "-m", "venv", "--clear", GENERATOR_VENV)
        await _run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                   GENERATOR)
        (GENERATOR_VENV / ".ready").touch()
    return python


async def generate_client(document: Path, out_dir: Path) -> tuple[Path, str]:
    """`openapi-python-client generate` into out_dir/conveyor_client; returns the python that
    can import it and what the generator said."""
    python = await generator_python()
    env = {**os.environ, "PATH": f"{python.parent}:{os.environ.get('PATH', '')}"}
    said = await _run(python.parent / "openapi-python-client", "generate", "--path", document,
                      "--meta", "none", "--output-path", out_dir / "conveyor_client", env=env)
    return python, said


async def run_with_client(python: Path, out_dir: Path, script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(out_dir)}
    return await _run(python, "-c", script, *args, env=env, timeout_s=120)
