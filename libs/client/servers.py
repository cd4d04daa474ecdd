"""Registered servers, workflow batches on them and the files they read and write (seed 004)."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

from libs.client.models_more import FileList, Server, ServerBatchTask, ServerCheck, StoredFile
from libs.client.transport import Transport


class Servers:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(self) -> builtins.list[Server]:
        return self._t.call("GET", "/servers", builtins.list[Server])

    def get(self, name: str) -> Server:
        return self._t.call("GET", f"/servers/{name}", Server)

    def register(self, name: str, url: str, *, type_: str = "remote", enabled: bool = True,
                 batch_size: int | None = None) -> Server:
        body: dict[str, Any] = {"name": name, "url": url, "type": type_, "enabled": enabled}
        if batch_size is not None:
            body["batch_size"] = batch_size
        return self._t.call("POST", "/servers/register", Server, json=body)


def _batch_body(workflow: str, folders: list[str], server: str, output_root: str,
                keywords: list[str] | None, options: dict[str, Any] | None) -> dict[str, Any]:
    return {"workflow_name": workflow, "target_folders": folders, "selected_server": server,
            "output_root": output_root, "folder_keywords": keywords or [],
            "options": options or {}}


class Batches:
    """`/batch`: a workflow over the files of folders, on one server."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def check(self, workflow: str, folders: builtins.list[str], server: str, output_root: str,
              keywords: builtins.list[str] | None = None,
              options: dict[str, Any] | None = None) -> ServerCheck:
        return self._t.call("POST", "/batch/check-server", ServerCheck,
                            json=_batch_body(workflow, folders, server, output_root, keywords,
                                            options))

    def process(self, workflow: str, folders: builtins.list[str], server: str, output_root: str,
                keywords: builtins.list[str] | None = None,
                options: dict[str, Any] | None = None) -> ServerBatchTask:
        return self._t.call("POST", "/batch/process", ServerBatchTask,
                            json=_batch_body(workflow, folders, server, output_root, keywords,
                                            options))

    def get(self, task_id: str) -> ServerBatchTask:
        return self._t.call("GET", f"/batch/tasks/{task_id}", ServerBatchTask)

    def list(self, *, limit: int = 100, offset: int = 0) -> builtins.list[ServerBatchTask]:
        return self._t.call("GET", "/batch/tasks", builtins.list[ServerBatchTask],
                            params={"limit": limit, "offset": offset})

    def cancel(self, task_id: str) -> ServerBatchTask:
        return self._t.call("POST", f"/batch/tasks/{task_id}/cancel", ServerBatchTask)


class Files:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def put(self, remote_path: str, content: bytes,
            content_type: str = "application/octet-stream") -> StoredFile:
        return self._t.call("PUT", f"/files/{remote_path.lstrip('/')}", StoredFile,
                            content=content, headers={"content-type": content_type})

    def list(self, prefix: str = "/") -> FileList:
        return self._t.call("GET", "/files", FileList, params={"prefix": prefix})

    def download(self, remote_path: str, dest: Path) -> int:
        return self._t.download(f"/files/{remote_path.lstrip('/')}", dest)
