"""Embeddings on ONNX Runtime reproduce the torch model's (chunks embedded by one and queries
by the other must match, and chunks stored before the switch were embedded with torch),
including in padded batches and shared out among several sessions; a model the ONNX pipeline
cannot reproduce falls back to torch."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from services.ingester.app import build_document_provider, build_query_provider
from services.ingester.embeddings.local import LocalProvider
from services.ingester.embeddings.onnx_local import OnnxMismatch, OnnxProvider, length_batches
from services.ingester.settings import IngesterSettings
from services.ingester.tokens import default_model_path

TEXTS = ["幻灯片渲染的并发数上限是多少", "What does error 4003 mean?", "",
         "x " * 400,  # beyond the model's 256 tokens: truncated the same way
         "PDF、DOCX 与 <xml> & \"quotes\" 混排的一段文字，用来检查分词。"]


@pytest.fixture(scope="module")
async def torch_model() -> AsyncIterator[LocalProvider]:
    provider = await LocalProvider.load(threads=1)
    yield provider
    await provider.close()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


async def test_onnx_queries_equal_the_torch_model(torch_model: LocalProvider,
                                                  cache_dir: Path) -> None:
    onnx = await OnnxProvider.load(default_model_path(), str(cache_dir), 1, torch_model)
    try:
        assert onnx.name == torch_model.name and onnx.dimensions == 384
        ours = np.array(await onnx.embed(TEXTS))  # one padded batch
        theirs = np.array(await torch_model.embed(TEXTS))
        assert ours.shape == (len(TEXTS), 384)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        assert (ours * theirs).sum(axis=1).min() > 0.9999
        alone = np.array([(await onnx.embed([text]))[0] for text in TEXTS])
        assert np.allclose(alone, ours, atol=1e-4)  # padding changes nothing
        assert await onnx.embed([]) == []
    finally:
        await onnx.close()
    # exported once, nothing partial left behind
    assert len(await asyncio.to_thread(os.listdir, cache_dir)) == 1


async def test_document_sessions_run_niced_and_the_caller_keeps_its_priority(
        torch_model: LocalProvider, cache_dir: Path) -> None:
    onnx = await OnnxProvider.load(default_model_path(), str(cache_dir), 2, torch_model,
                                   nice=3)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        loop = asyncio.get_running_loop()
        niceness = [await loop.run_in_executor(thread, os.getpriority, os.PRIO_PROCESS, 0)
                    for thread in onnx._threads]
        assert niceness == [min(ours + 3, 19)] * 2
        assert os.getpriority(os.PRIO_PROCESS, 0) == ours
        assert len(await onnx.embed(TEXTS)) == len(TEXTS)
    finally:
        await onnx.close()


async def test_another_pooling_is_refused_and_the_ingester_keeps_torch(
        torch_model: LocalProvider, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(default_model_path(), model)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False,
                                   "pooling_mode_cls_token": True}))
    with pytest.raises(OnnxMismatch, match="pooling"):
        await OnnxProvider.load(str(model), str(tmp_path / "cache"), 1, torch_model)
    assert not (tmp_path / "cache").exists()  # refused before any export

    settings = IngesterSettings(embedding_model_path=str(model),
                                onnx_cache_dir=str(tmp_path / "cache"))
    queries = await build_query_provider(settings, torch_model)
    try:
        assert isinstance(queries, LocalProvider) and queries is not torch_model
    finally:
        await queries.close()


async def test_the_http_provider_embeds_its_own_queries(torch_model: LocalProvider) -> None:
    settings = IngesterSettings(embedding_provider="http", embedding_url="http://unused/v1")
    assert await build_query_provider(settings, torch_model) is torch_model


async def test_documents_on_onnx_sessions_equal_the_torch_model_in_order(
        torch_model: LocalProvider, cache_dir: Path) -> None:
    settings = IngesterSettings(onnx_cache_dir=str(cache_dir), embedding_threads=2,
                                embedding_batch_size=2)
    documents = await build_document_provider(settings, torch_model)
    assert isinstance(documents, OnnxProvider)
    try:
        texts = [*TEXTS, *(f"chunk {n} " * n for n in range(1, 8))]  # 12 texts, 2 sessions
        ours = np.array(await documents.embed(texts))
        theirs = np.array(await torch_model.embed(texts))
        assert ours.shape == (len(texts), 384)
        assert (ours * theirs).sum(axis=1).min() > 0.9999  # each vector in its text's place
    finally:
        await documents.close()


async def test_documents_stay_on_torch_when_asked_or_remote(torch_model: LocalProvider) -> None:
    assert await build_document_provider(IngesterSettings(document_runtime="torch"),
                                         torch_model) is torch_model
    remote = IngesterSettings(embedding_provider="http", embedding_url="http://unused/v1")
    assert await build_document_provider(remote, torch_model) is torch_model
    with pytest.raises(SystemExit, match="DOCUMENT_RUNTIME"):
        await build_document_provider(IngesterSettings(document_runtime="gpu"), torch_model)


def test_batches_group_texts_of_like_length_and_cut_where_padding_would_grow() -> None:
    lengths = [200, 12, 198, 15, 201, 14, 60, 199]
    batches = length_batches(lengths, size=3, max_padding=0.1)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert [[lengths[i] for i in batch] for batch in batches] == [
        [12, 14, 15], [60], [198, 199, 200], [201]]
    for batch in batches:  # each within its padding bound
        padded = len(batch) * max(lengths[i] for i in batch)
        assert padded - sum(lengths[i] for i in batch) <= 0.1 * padded
    assert length_batches([], 32, 0.1) == []
    assert length_batches([5] * 70, 32, 0.1) == [list(range(32)), list(range(32, 64)),
                                                  list(range(64, 70))]
