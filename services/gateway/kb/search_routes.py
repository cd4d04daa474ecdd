"""`POST /api/v1/knowledge-bases/{kb_id}/search`: the ingester embeds the query with the same
model as the chunks and asks pgvector (the gateway never loads a model)."""

from typing import Any

from litestar import post
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.messaging.rpc import RpcClient, RpcUnavailable
from proto.kb import ChunkHit, ChunksFound, SearchChunks
from proto.topology import Queue
from services.gateway.auth.repository import Principal
from services.gateway.kb import errors, ids
from services.gateway.kb.access import load_kb
from services.gateway.kb.dto import SearchBody
from services.gateway.kb.schemas import (
    SearchResponse,
)
from services.gateway.openapi import documented
from services.gateway.settings import GatewaySettings


def _result(hit: ChunkHit) -> dict[str, Any]:
    return {"chunk_id": hit.chunk_id, "document_id": ids.public(ids.DOC, hit.document_id),
            "filename": hit.filename, "chunk_index": hit.seq, "content": hit.content,
            "score": hit.score}


@post("/api/v1/knowledge-bases/{kb_id:str}/search", status_code=200, tags=["knowledge bases"],
      summary="The chunks nearest in meaning to a query, best first",
      responses=documented(SearchResponse, errors=(404, 503)))
async def search(kb_id: str, data: SearchBody, db: AsyncEngine, principal: Principal,
                 rpc: RpcClient, settings: GatewaySettings) -> dict[str, Any]:
    async with db.connect() as conn:
        kb = await load_kb(conn, principal, kb_id)
    request = SearchChunks(tenant_id=principal.tenant_id, kb_id=kb.id, query=data.query,
                           top_k=data.top_k)
    try:
        found: ChunksFound = await rpc.call(Queue.KB_SEARCH, request, ChunksFound,
                                            settings.kb_search_timeout_s)
    except RpcUnavailable as exc:
        raise errors.search_unavailable(str(exc)) from None
    if found.error:
        raise errors.search_unavailable(found.error)
    return {"data": {"kb_id": ids.public(ids.KB, kb.id), "query": data.query,
                     "top_k": data.top_k, "took_ms": found.took_ms,
                     "results": [_result(hit) for hit in found.hits]}}
