"""Document batches (seed 000): templates, data sources, batch tasks, the ZIP."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

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
                     options: dict[str, Any] | None = None) -> BatchCreated:
        body: dict[str, Any] = {"templateIds": template_ids, "outputFormat": output_format,
                                "mode": "parallel" if parallel else "sequential",
                                "options": options or {}}
        if data_source_id:
            body["dataSourceId"] = data_source_id
        if rows:
            body["data"] = rows
        if name:
            body["name"] = name
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
