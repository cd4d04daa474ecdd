"""Seed 003 end to end: knowledge bases, documents, sync tasks and search through the gateway,
with a real ingester (local all-MiniLM-L6-v2 embeddings, pgvector)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import text

from libs.db.engine import create_engine
from tests import kb_samples as samples
from tests.e2e.conftest import Api, Stack
from tests.e2e.kb_support import (
    STEP_FORMS,
    create_kb,
    search,
    seed_polling_example,
    start_ingester,
    sync,
    upload,
    wait_sync,
    wait_until_processed,
)

GOOD = {
    "photosynthesis.txt": samples.PHOTOSYNTHESIS.encode(),
    "revolution.md": f"# History\n\n**{samples.REVOLUTION}**\n".encode(),
    "volcano.html": f"<html><head><title>Volcanoes</title><script>var x=1;</script></head>"
                    f"<body><p>{samples.VOLCANO}</p></body></html>".encode(),
    "blockchain.pdf": samples.make_pdf(samples.BLOCKCHAIN),
    "cycling.docx": samples.make_docx([samples.CYCLING], [["Stage", "Mountain"],
                                                          ["17", "Alpe d'Huez"]]),
    "熊猫.txt": samples.PANDA.encode("gb18030"),  # not UTF-8: the encoding is detected
    "高铁.docx": samples.make_docx([samples.RAIL]),
    "茶.md": f"## 茶文化\n\n{samples.TEA}\n".encode(),
    # Text only in an image: found through OCR.
    "quantum.docx": samples.make_docx(["Figure 1"], images=(samples.text_image([
        "Quantum entanglement links two", "distant particles: measuring one",
        "instantly fixes the state of the other."]),)),
}
BAD = {"broken.pdf": samples.corrupt_pdf(), "bomb.docx": samples.docx_bomb(64)}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ingester(stack: Stack) -> AsyncIterator[None]:
    handle = await start_ingester(stack, CONVEYOR_INGESTER_MAX_DOCUMENT_BYTES=str(256 * 1024))
    yield
    await stack.cluster.kill(handle)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def library(ingester: None, alice: Api) -> dict[str, Any]:
    """A knowledge base with the good and the bad documents, synced by seed 003's example."""
    kb_id = await create_kb(alice, "library")
    docs = {name: await upload(alice, kb_id, name, content)
            for name, content in {**GOOD, **BAD}.items()}
    assert alice.token
    seen = await asyncio.to_thread(seed_polling_example, alice.base_url, kb_id, alice.token)
    return {"kb_id": kb_id, "docs": docs, **seen}


async def _chunk_ids(stack: Stack, kb_id: str) -> list[int]:
    db = create_engine(stack.env["CONVEYOR_DATABASE_URL"], pool_size=1)
    try:
        async with db.connect() as conn:
            rows = await conn.execute(
                text("SELECT id FROM kb_chunks WHERE kb_id = :kb ORDER BY id"),
                {"kb": kb_id.removeprefix("kb-")})
            return [row.id for row in rows]
    finally:
        await db.dispose()


async def test_seed_example_ends_partial_success_with_exactly_the_hostile_files_failed(
    library: dict[str, Any], alice: Api
) -> None:
    task = library["task"]
    assert task["status"] == "partial_success"
    assert (task["total_documents"], task["processed_documents"], task["failed_documents"]) == (
        len(GOOD) + 2, len(GOOD), 2)
    assert task["progress"] == 100 and task["current_step"] == "完成（部分失败）"
    by_name = {doc["filename"]: doc for doc in task["documents"]}
    assert {n for n, d in by_name.items() if d["status"] == "failed"} == set(BAD)
    assert by_name["broken.pdf"]["error_message"].startswith("PDF转换失败: 文件损坏")
    assert "压缩炸弹" in by_name["bomb.docx"]["error_message"]
    for name in GOOD:
        assert by_name[name]["status"] == "completed", by_name[name]
        assert by_name[name]["chunks_created"] >= 1 and by_name[name]["processing_time_ms"] > 0
    assert all(STEP_FORMS.match(step) for step in library["steps"]), library["steps"]

    second = library["second"]
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "7002"
    assert second.json()["error"]["details"] == {"running_task_id": library["task_id"]}

    listed = (await alice.http.get(f"/api/v1/knowledge-bases/{library['kb_id']}/sync-tasks",
                                   params={"status": "partial_success"})).json()["data"]
    assert [t["id"] for t in listed][:1] == [library["task_id"]]
    assert listed[0]["completed_at"] and listed[0]["failed_documents"] == 2


async def test_retry_failed_creates_a_task_for_just_the_failed_documents(
    library: dict[str, Any], alice: Api
) -> None:
    retry = library["retry"]
    assert retry["message"] == "重试任务已创建"
    assert retry["data"]["retry_document_count"] == 2
    assert sorted(retry["data"]["document_ids"]) == sorted(library["docs"][n] for n in BAD)
    child = await wait_sync(alice, retry["data"]["new_task_id"])
    assert (child["status"], child["total_documents"], child["failed_documents"]) == (
        "failed", 2, 0 + 2)
    assert child["task_type"] == "incremental" and child["retry_of"] == library["task_id"]


async def test_search_finds_each_good_document_first_for_a_paraphrase_in_english_and_chinese(
    library: dict[str, Any], alice: Api
) -> None:
    kb_id = library["kb_id"]
    cases = {
        "How do green plants turn light into stored chemical energy?": "photosynthesis.txt",
        "When did the uprising against the French king start?": "revolution.md",
        "What comes out when molten rock pushes up through the ground?": "volcano.html",
        "熊猫每天吃什么，住在哪里？": "熊猫.txt",
        "中国的高速列车最快能跑多快？": "高铁.docx",
        "How are two far-apart particles tied together?": "quantum.docx",
        "How does a shared ledger keep old records from being changed?": "blockchain.pdf",
        "龙井是哪里产的茶？": "茶.md",
    }
    for query, filename in cases.items():
        results = await search(alice, kb_id, query)
        assert results[0]["filename"] == filename, (query, results)
        assert results[0]["document_id"] == library["docs"][filename]
        assert results[0]["score"] >= results[-1]["score"]
        assert results[0]["matched"] and set(results[0]["matched"]) <= {"vector", "keyword"}
        assert set(results[0]["weights"]) == set(results[0]["matched"])  # each one's weight
        assert all(weight > 0 for weight in results[0]["weights"].values())
    # The local model reads English only: a Chinese question leans on keywords alone.
    chinese = await search(alice, kb_id, "熊猫每天吃什么，住在哪里？")
    assert {m for r in chinese for m in r["matched"]} == {"keyword"}
    table = await search(alice, kb_id, "Which mountain stage of the bicycle race?", top_k=1)
    assert table[0]["filename"] == "cycling.docx" and "Alpe d'Huez" in table[0]["content"]
    heading = await search(alice, kb_id, "茶文化", top_k=1)  # the Markdown heading, as context
    assert heading[0]["filename"] == "茶.md" and heading[0]["context"] == "茶文化"
    assert "keyword" in heading[0]["matched"] and heading[0]["keyword_rank"] == 1
    for mode in ("vector", "keyword"):
        response = await alice.http.post(f"/api/v1/knowledge-bases/{kb_id}/search",
                                         json={"query": "熊猫", "mode": mode})
        assert response.status_code == 200, response.text
        assert {m for r in response.json()["data"]["results"] for m in r["matched"]} == {mode}
    bad = await alice.http.post(f"/api/v1/knowledge-bases/{kb_id}/search",
                                json={"query": "熊猫", "mode": "psychic"})
    assert bad.status_code == 400 and "mode" in bad.text


async def test_a_second_full_sync_with_nothing_changed_embeds_nothing(
    library: dict[str, Any], alice: Api, stack: Stack
) -> None:
    kb_id = library["kb_id"]
    await wait_sync(alice, library["retry"]["data"]["new_task_id"])
    for name in BAD:  # leave only documents that index
        response = await alice.http.delete(
            f"/api/v1/knowledge-bases/{kb_id}/documents/{library['docs'][name]}")
        assert response.status_code == 200, response.text
    before = await _chunk_ids(stack, kb_id)
    task = await wait_sync(alice, (await sync(alice, kb_id))["task_id"])
    assert task["status"] == "completed" and task["skipped_documents"] == len(GOOD)
    assert {d["status"] for d in task["documents"]} == {"skipped"}
    assert sum(d["chunks_created"] for d in task["documents"]) == 0
    generic = (await alice.http.get(f"/api/v1/tasks/{task['id'].removeprefix('task-')}"))
    assert "embedded_chunks" not in generic.json()["data"]["usage"]
    assert await _chunk_ids(stack, kb_id) == before, "chunks were rewritten"


async def test_a_changed_document_is_reindexed_and_a_deleted_one_loses_its_chunks(
    library: dict[str, Any], alice: Api, stack: Stack
) -> None:
    kb_id, docs = library["kb_id"], library["docs"]
    glacier = ("A glacier is a slow river of ice that forms where more snow falls each winter "
               "than melts each summer; its weight grinds valleys into a U shape.")
    response = await alice.http.put(f"/api/v1/knowledge-bases/{kb_id}/documents/"
                                    f"{docs['volcano.html']}",
                                    files={"file": ("glacier.html", f"<p>{glacier}</p>")})
    assert response.status_code == 200 and response.json()["data"]["sync_status"] == "outdated"
    task = await wait_sync(alice, (await sync(alice, kb_id))["task_id"])
    statuses = {d["filename"]: d["status"] for d in task["documents"]}
    assert statuses.pop("glacier.html") == "completed"
    assert set(statuses.values()) == {"skipped"}
    hit = (await search(alice, kb_id, "How does moving ice carve valleys?", top_k=1))[0]
    assert hit["document_id"] == docs["volcano.html"] and "glacier" in hit["content"]

    deleted = await alice.http.delete(f"/api/v1/knowledge-bases/{kb_id}/documents/"
                                      f"{docs['熊猫.txt']}")
    assert deleted.status_code == 200
    results = await search(alice, kb_id, "熊猫每天吃什么？", top_k=10)
    assert docs["熊猫.txt"] not in {r["document_id"] for r in results}
    listed = (await alice.http.get(f"/api/v1/knowledge-bases/{kb_id}/documents")).json()
    assert listed["total"] == len(GOOD) - 1
    assert {d["sync_status"] for d in listed["data"]} == {"synced"}


async def test_incremental_sync_reports_unknown_ids_with_3001(
    library: dict[str, Any], alice: Api
) -> None:
    known = library["docs"]["茶.md"]
    response = await alice.http.post(
        f"/api/v1/knowledge-bases/{library['kb_id']}/sync",
        json={"task_type": "incremental", "document_ids": [known, "doc-invalid-id"]})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "3001"
    assert response.json()["error"]["details"] == {"not_found": ["doc-invalid-id"]}


async def test_cancel_stops_further_documents_and_keeps_processed_ones(
    ingester: None, alice: Api, stack: Stack
) -> None:
    kb_id = await create_kb(alice, "cancel me")
    topics = [samples.PHOTOSYNTHESIS, samples.REVOLUTION, samples.VOLCANO, samples.CYCLING,
              samples.BLOCKCHAIN, samples.PANDA, samples.RAIL, samples.TEA]
    # Enough documents that the sync is still running when the first ones are done: the
    # ingester embeds the chunks of all 32 documents in flight in one model call, so they
    # finish together (three such rounds here).
    total = 96
    for i in range(total):
        await upload(alice, kb_id, f"note-{i:02}.txt", f"{topics[i % 8]} ({i})".encode())
    created = await sync(alice, kb_id)
    task_id = created["task_id"]
    assert (created["status"], created["total_documents"]) == ("pending", total)
    await wait_until_processed(alice, task_id, 1)
    response = await alice.http.post(f"/api/v1/sync-tasks/{task_id}/cancel")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "任务取消成功" and body["data"]["status"] == "cancelled"
    kept = body["data"]["processed_documents"]
    assert 1 <= kept < total and body["data"]["cancelled_at"]
    await asyncio.sleep(1.0)  # in-flight documents finish; their results are discarded
    task = (await alice.http.get(f"/api/v1/sync-tasks/{task_id}")).json()["data"]
    assert task["status"] == "cancelled" and task["processed_documents"] == kept
    assert task["current_step"] == "已取消"
    cancelled = [d for d in task["documents"] if d["status"] == "cancelled"]
    assert len(cancelled) >= total - kept - 2
    assert len(await _chunk_ids(stack, kb_id)) >= kept, "processed documents stay indexed"

    again = await alice.http.post(f"/api/v1/sync-tasks/{task_id}/cancel")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "7003"
    assert again.json()["error"]["details"] == {"task_id": task_id, "current_status": "cancelled"}


async def test_hostile_xml_and_oversized_files_fail_only_themselves(
    ingester: None, alice: Api
) -> None:
    kb_id = await create_kb(alice, "hostile")
    await upload(alice, kb_id, "fine.txt", samples.VOLCANO.encode())
    await upload(alice, kb_id, "xxe.docx", samples.docx_xxe())
    await upload(alice, kb_id, "huge.txt", b"word " * (300 * 1024 // 5))  # over 256 KiB
    task = await wait_sync(alice, (await sync(alice, kb_id))["task_id"])
    assert task["status"] == "partial_success"
    errors = {d["filename"]: d.get("error_message") for d in task["documents"]}
    assert errors["fine.txt"] is None
    assert "XXE" in errors["xxe.docx"] and "root:" not in errors["xxe.docx"]
    assert errors["huge.txt"].startswith("文件过大")


async def test_knowledge_bases_are_invisible_to_other_tenants(
    library: dict[str, Any], mallory: Api
) -> None:
    kb_id = library["kb_id"]
    for response in (
        await mallory.http.get(f"/api/v1/knowledge-bases/{kb_id}"),
        await mallory.http.post(f"/api/v1/knowledge-bases/{kb_id}/search",
                                json={"query": "photosynthesis"}),
        await mallory.http.post(f"/api/v1/knowledge-bases/{kb_id}/sync",
                                json={"task_type": "full_sync"}),
        await mallory.http.get(f"/api/v1/sync-tasks/{library['task_id']}"),
        await mallory.http.post(f"/api/v1/sync-tasks/{library['task_id']}/retry-failed"),
    ):
        assert response.status_code == 404, response.text
    own = (await mallory.http.get("/api/v1/knowledge-bases")).json()
    assert kb_id not in {kb["id"] for kb in own["data"]}


async def test_knowledge_base_and_document_management_errors(alice: Api) -> None:
    kb_id = await create_kb(alice, "errors")
    taken = await alice.http.post("/api/v1/knowledge-bases", json={"name": "errors"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "2002"
    unknown = await alice.http.get("/api/v1/knowledge-bases/kb-not-a-uuid")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "2001"

    exe = await alice.http.post(f"/api/v1/knowledge-bases/{kb_id}/documents",
                                files={"file": ("setup.exe", b"MZ\x90\x00")})
    assert exe.status_code == 400 and exe.json()["error"]["code"] == "3002"
    assert "pdf" in str(exe.json()["error"]["details"]["supported"])
    empty = await alice.http.post(f"/api/v1/knowledge-bases/{kb_id}/documents",
                                  files={"file": ("empty.txt", b"")})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "3005"
    nothing = await alice.http.post(f"/api/v1/knowledge-bases/{kb_id}/sync",
                                    json={"task_type": "full_sync", "document_ids": []})
    assert nothing.status_code == 400 and nothing.json()["error"]["code"] == "3006"
    no_ids = await alice.http.post(f"/api/v1/knowledge-bases/{kb_id}/sync",
                                   json={"task_type": "incremental", "document_ids": []})
    assert no_ids.status_code == 400
    assert no_ids.json()["error"]["details"][0]["field"] == "document_ids"
    bad_type = await alice.http.post(f"/api/v1/knowledge-bases/{kb_id}/sync",
                                     json={"task_type": "everything"})
    assert bad_type.status_code == 400 and bad_type.json()["error"]["code"] == "VALIDATION_ERROR"

    doc_id = await upload(alice, kb_id, "a.txt", b"alpha")
    await upload(alice, kb_id, "b.txt", b"beta")
    page = (await alice.http.get(f"/api/v1/knowledge-bases/{kb_id}/documents",
                                 params={"limit": 1, "offset": 1})).json()
    assert page["total"] == 2 and [d["filename"] for d in page["data"]] == ["b.txt"]
    one = (await alice.http.get(f"/api/v1/knowledge-bases/{kb_id}/documents/{doc_id}")).json()
    assert one["data"]["sync_status"] == "not_synced" and one["data"]["size_bytes"] == 5
    deleted = await alice.http.delete(f"/api/v1/knowledge-bases/{kb_id}")
    assert deleted.status_code == 200
    assert (await alice.http.get(f"/api/v1/knowledge-bases/{kb_id}")).status_code == 404


async def test_retry_failed_needs_a_finished_task_with_failed_documents(
    ingester: None, alice: Api
) -> None:
    kb_id = await create_kb(alice, "all good")
    await upload(alice, kb_id, "tea.md", samples.TEA.encode())
    created = await sync(alice, kb_id)
    early = await alice.http.post(f"/api/v1/sync-tasks/{created['task_id']}/retry-failed")
    assert early.status_code == 400 and early.json()["error"]["code"] in ("7004", "7005")
    assert (await wait_sync(alice, created["task_id"]))["status"] == "completed"
    response = await alice.http.post(f"/api/v1/sync-tasks/{created['task_id']}/retry-failed")
    assert response.status_code == 400 and response.json()["error"]["code"] == "7005"
