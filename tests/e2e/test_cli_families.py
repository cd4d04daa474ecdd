"""The CLI on the other API families, end to end: slides (seed 001) and knowledge bases
(seed 003), each with the service that does the work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli_support import cli_env, run
from tests.e2e.conftest import Api, Stack
from tests.e2e.kb_support import start_ingester
from tests.e2e.slides_support import start_slides, stop_slides


@pytest.fixture
def shell(tmp_path: Path, stack: Stack, alice: Api) -> dict[str, str]:
    assert alice.token
    return cli_env(tmp_path / "config", CONVEYOR_URL=stack.url, CONVEYOR_TOKEN=alice.token)


async def test_slides_generate_waits_and_reports_every_slide(
    shell: dict[str, str], stack: Stack, tmp_path: Path
) -> None:
    deck = tmp_path / "deck.json"
    deck.write_text(json.dumps({"slides": [
        {"id": f"cli-{i}", "type": kind, "title": f"命令行 {i}", "content_text": "要点"}
        for i, kind in enumerate(["cover", "content", "ending"])], "max_workers": 2}),
        encoding="utf-8")
    handle = await start_slides(stack)
    try:
        result = await run(shell, "--json", "slides", "generate", str(deck), "--wait",
                           timeout_s=300)
    finally:
        await stop_slides(stack, handle)
    assert result.code == 0, result.stderr
    batch = json.loads(result.stdout)
    assert batch["task_status"] == "completed" and batch["successful"] == 3
    assert [r["status"] for r in batch["results"]] == ["done"] * 3
    assert all(r["image_url"] for r in batch["results"])

    bad = tmp_path / "bad.json"
    bad.write_text("[not json", encoding="utf-8")
    refused = await run(shell, "slides", "generate", str(bad))
    assert refused.code == 2 and "not a JSON object" in refused.stderr


async def test_kb_create_upload_sync_search(shell: dict[str, str], stack: Stack,
                                            tmp_path: Path) -> None:
    handle = await start_ingester(stack)
    try:
        created = await run(shell, "--json", "kb", "create", "cli manual")
        assert created.code == 0, created.stderr
        kb_id = json.loads(created.stdout)["id"]
        notes = tmp_path / "retries.md"
        notes.write_text("# Retrying failed documents\n\nA sync task that ends partly failed "
                         "can be retried: only the failed documents run again.\n",
                         encoding="utf-8")
        other = tmp_path / "fonts.md"
        other.write_text("# Fonts\n\nSlides use Noto Sans CJK for Chinese text.\n",
                         encoding="utf-8")
        uploaded = await run(shell, "kb", "upload", kb_id, str(notes), str(other))
        assert uploaded.code == 0 and "not_synced" in uploaded.stdout, uploaded.stderr
        synced = await run(shell, "--json", "kb", "sync", kb_id, "--wait", timeout_s=300)
        assert synced.code == 0, synced.stderr
        assert json.loads(synced.stdout)["processed_documents"] == 2
        found = await run(shell, "--json", "kb", "search", kb_id, "how do I rerun what failed?")
        assert found.code == 0, found.stderr
        assert json.loads(found.stdout)["results"][0]["filename"] == "retries.md"
        listed = await run(shell, "kb", "ls")
        assert "cli manual" in listed.stdout
    finally:
        await stack.cluster.kill(handle)
