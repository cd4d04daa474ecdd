"""Document batches (seed 000): templates, data sources, batch tasks, the ZIP."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from libs.client.errors import Conflict, NotFound
from libs.client.models import (
    BatchControl,
    BatchCreated,
    BatchProgress,
    DataSource,
    Deleted,
    Template,
)
from libs.client.transport import T, Transport

UPLOAD_TIMEOUT_S = 300.0


class Documents:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    # templates
    def upload_template(self, path: Path, *, name: str | None = None,
                        template_id: str | None = None) -> Template:
        return self._upload("/api/v2/templates", Template, path, name, template_id)

    def ensure_template(self, path: Path, *, name: str | None = None) -> tuple[Template, bool]:
        """The template of this content, uploaded only if the tenant has none yet (its id is
        the content's hash); answers it and whether it was uploaded now."""
        chosen = content_id("tpl", path)
        try:
            return self.template(chosen), False
        except NotFound:
            pass
        try:
            return self.upload_template(path, name=name, template_id=chosen), True
        except Conflict:  # uploaded meanwhile by someone else
            return self.template(chosen), False

    def templates(self) -> list[Template]:
        return self._t.call_data("GET", "/api/v2/templates", list[Template])

    def template(self, template_id: str) -> Template:
        return self._t.call_data("GET", f"/api/v2/templates/{template_id}", Template)

    def delete_template(self, template_id: str) -> Deleted:
        return self._t.call_data("DELETE", f"/api/v2/templates/{template_id}", Deleted)

    # data sources
    def upload_data_source(self, path: Path, *, name: str | None = None,
                           source_id: str | None = None) -> DataSource:
        return self._upload("/api/v2/data-sources", DataSource, path, name, source_id)

    def ensure_data_source(self, path: Path, *,
                           name: str | None = None) -> tuple[DataSource, bool]:
        """The data source of this content, uploaded only if the tenant has none yet."""
        chosen = content_id("ds", path)
        try:
            return self.data_source(chosen), False
        except NotFound:
            pass
        try:
            return self.upload_data_source(path, name=name, source_id=chosen), True
        except Conflict:
            return self.data_source(chosen), False

    def data_sources(self) -> list[DataSource]:
        return self._t.call_data("GET", "/api/v2/data-sources", list[DataSource])

    def data_source(self, source_id: str) -> DataSource:
        return self._t.call_data("GET", f"/api/v2/data-sources/{source_id}", DataSource)

    def delete_data_source(self, source_id: str) -> Deleted:
        return self._t.call_data("DELETE", f"/api/v2/data-sources/{source_id}", Deleted)

    # batch tasks
    def create_batch(self, template_ids: list[str], output_format: Literal["docx", "pdf"], *,
                     data_source_id: str | None = None, rows: list[dict[str, Any]] | None = None,
                     name: str | None = None, parallel: bool = False,
                     options: dict[str, Any] | None = None,
                     row_range: tuple[int, int | None] | None = None) -> BatchCreated:
        """`row_range`: rows first..last of the source (1-based, inclusive; None: to the end)."""
        body: dict[str, Any] = {"templateIds": template_ids, "outputFormat": output_format,
                                "mode": "parallel" if parallel else "sequential",
                                "options": options or {}}
        if data_source_id:
            body["dataSourceId"] = data_source_id
        if rows:
            body["data"] = rows
        if name:
            body["name"] = name
        if row_range:
            body["rowRange"] = {"first": row_range[0], **(
                {"last": row_range[1]} if row_range[1] is not None else {})}
        return self._t.call_data("POST", "/api/v2/batch/tasks", BatchCreated, json=body)

    def control(self, task_id: str, action: str) -> BatchControl:
        """start, pause, resume or cancel a batch."""
        return self._t.call_data("POST", f"/api/v2/batch/tasks/{task_id}/{action}", BatchControl)

    def progress(self, task_id: str) -> BatchProgress:
        return self._t.call_data("GET", f"/api/v2/batch/tasks/{task_id}/progress", BatchProgress)

    def zip_url(self, task_id: str) -> str:
        """The short-lived presigned URL of the batch's ZIP."""
        return self._t.redirect_target(f"/api/v2/batch/tasks/{task_id}/download/zip")

    def download_zip(self, task_id: str, dest: Path) -> int:
        """Write the batch's ZIP to `dest`; returns its size in bytes."""
        return self._t.download(f"/api/v2/batch/tasks/{task_id}/download/zip", dest)

    def _upload(self, route: str, type_: type[T], path: Path, name: str | None,
                chosen_id: str | None) -> T:
        form = {k: v for k, v in {"name": name, "id": chosen_id}.items() if v}
        with path.open("rb") as handle:
            return self._t.call_data("POST", route, type_, data=form,
                                     files={"file": (path.name, handle)},
                                     timeout=UPLOAD_TIMEOUT_S)


def content_id(prefix: str, path: Path) -> str:
    """An upload's id from its bytes (SHA-256, 160 bits): the same file twice is one upload."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return f"{prefix}-{digest.hexdigest()[:40]}"
