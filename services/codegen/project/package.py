"""The generate agent's engine half: the README, the preview page and the ZIP, built in the
capped render process from the files the validate agent rendered and checked."""

import io
import zipfile

import msgspec

from proto.codegen import AppSpec, QualityReport
from services.codegen.project.checks import quality_report
from services.codegen.project.paths import ProjectFiles, check_path
from services.codegen.project.render import render_preview, render_project, render_readme


class Packaged(msgspec.Struct, frozen=True, kw_only=True):
    archive: bytes
    preview: str | None
    files: list[str]


def render(spec_json: bytes, max_file_bytes: int, max_total_bytes: int) -> dict[str, str]:
    """Sandbox job: the spec (JSON, checked against the schema again here) -> its files."""
    spec = msgspec.json.decode(spec_json, type=AppSpec)
    return render_project(spec, max_file_bytes=max_file_bytes, max_total_bytes=max_total_bytes)


def render_and_check(spec_json: bytes, check: bool, max_file_bytes: int,
                     max_total_bytes: int) -> tuple[dict[str, str], QualityReport | None]:
    """Sandbox job: the files and (unless skipped) their quality report, in one round trip."""
    spec = msgspec.json.decode(spec_json, type=AppSpec)
    files = render_project(spec, max_file_bytes=max_file_bytes, max_total_bytes=max_total_bytes)
    return files, quality_report(spec, files) if check else None


def package(spec_json: bytes, files: dict[str, str], overview: str, provider: str,
            app_spec_id: str, quality_score: int | None, preview: bool,
            max_file_bytes: int, max_total_bytes: int) -> Packaged:
    """Sandbox job: README + files -> a ZIP under one folder named after the application."""
    spec = msgspec.json.decode(spec_json, type=AppSpec)
    project = ProjectFiles(max_file_bytes=max_file_bytes, max_total_bytes=max_total_bytes)
    project.add("README.md", render_readme(spec, overview=overview, provider=provider,
                                           app_spec_id=app_spec_id))
    for path, content in files.items():
        project.add(path, content)
    root = check_path(spec.app_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(project.files):
            info = zipfile.ZipInfo(f"{root}/{path}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, project.files[path])
    page = render_preview(spec, quality_score=quality_score) if preview else None
    return Packaged(archive=buffer.getvalue(), preview=page, files=sorted(project.files))
