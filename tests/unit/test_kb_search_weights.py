"""How much a hybrid search trusts the vector ranking: in proportion to the share of the query
the local embedding model can read (all-MiniLM-L6-v2 knows few Chinese characters)."""

from typing import Any

from proto.kb import SearchChunks
from services.ingester.repository import Fusion
from services.ingester.search import SearchService
from services.ingester.tokens import known_share

share = known_share()


def test_the_model_reads_english_but_little_chinese() -> None:
    assert share("How do green plants store energy?") == 1.0
    assert share("熊猫每天吃什么") < 0.3
    assert share("") == 1.0


def _service(readable: Any) -> SearchService:
    return SearchService(db=None, provider=None, fusion=Fusion(vector_weight=2.0),  # type: ignore[arg-type]
                         readable=readable)


def _request(query: str, mode: str = "hybrid") -> SearchChunks:
    return SearchChunks(tenant_id="t", kb_id="k", query=query, mode=mode)  # type: ignore[arg-type]


def test_hybrid_weighs_the_vector_ranking_by_what_the_model_can_read() -> None:
    service = _service(share)
    chinese = service._fusion_for(_request("熊猫每天吃什么"), "'熊猫'")
    assert chinese.vector_weight == 2.0 * share("熊猫每天吃什么") and chinese.keyword_weight == 1
    assert service._fusion_for(_request("green plants"), "'green'").vector_weight == 2.0


def test_full_weight_without_keywords_in_single_modes_or_for_remote_models() -> None:
    service = _service(share)
    assert service._fusion_for(_request("什么"), None).vector_weight == 2.0  # only the vector
    assert service._fusion_for(_request("熊猫", "vector"), None).vector_weight == 2.0
    assert _service(None)._fusion_for(_request("熊猫"), "'熊猫'").vector_weight == 2.0
