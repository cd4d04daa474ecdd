"""Knowledge bases (seed 003): documents, sync tasks, search."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

from libs.client.models_more import (
    KbDocument,
    KnowledgeBase,
    SearchResults,
    SyncCreated,
    SyncTask,
)
from libs.client.transport import Transport

UPLOAD_TIMEOUT_S = 300.0


class KnowledgeBases:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, name: str, description: str = "") -> KnowledgeBase:
        return self._t.call_data("POST", "/api/v1/knowledge-bases", KnowledgeBase,
                                 json={"name": name, "description": description})

    def list(self, *, limit: int = 20, offset: int = 0) -> builtins.list[KnowledgeBase]:
        return self._t.call_data("GET", "/api/v1/knowledge-bases", builtins.list[KnowledgeBase],
                                 params={"limit": limit, "offset": offset})

    def get(self, kb_id: str) -> KnowledgeBase:
        return self._t.call_data("GET", f"/api/v1/knowledge-bases/{kb_id}", KnowledgeBase)

    def upload(self, kb_id: str, path: Path) -> KbDocument:
        with path.open("rb") as handle:
            return self._t.call_data("POST", f"/api/v1/knowledge-bases/{kb_id}/documents",
                                     KbDocument, files={"file": (path.name, handle)},
                                     timeout=UPLOAD_TIMEOUT_S)

    def documents(self, kb_id: str) -> builtins.list[KbDocument]:
        return self._t.call_data("GET", f"/api/v1/knowledge-bases/{kb_id}/documents",
                                 builtins.list[KbDocument])

    def sync(self, kb_id: str, document_ids: builtins.list[str] | None = None) -> SyncCreated:
        """A full sync, or an incremental one of the listed documents."""
        body: dict[str, Any] = ({"task_type": "incremental", "document_ids": document_ids}
                                if document_ids else {"task_type": "full_sync"})
        return self._t.call_data("POST", f"/api/v1/knowledge-bases/{kb_id}/sync", SyncCreated,
                                 json=body)

    def sync_task(self, task_id: str) -> SyncTask:
        return self._t.call_data("GET", f"/api/v1/sync-tasks/{task_id}", SyncTask)

    def search(self, kb_id: str, query: str, top_k: int = 5,
               mode: str = "hybrid") -> SearchResults:
        """`mode`: hybrid (keywords and meaning fused), vector or keyword alone."""
        return self._t.call_data("POST", f"/api/v1/knowledge-bases/{kb_id}/search",
                                 SearchResults,
                                 json={"query": query, "top_k": top_k, "mode": mode})
