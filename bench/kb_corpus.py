"""A generated corpus for the knowledge-base benchmark: documents in every supported format,
each about one topic, written from a fixed vocabulary with a fixed seed (the same corpus on
every run); and how the benchmarks load a corpus into a knowledge base."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

from tests import kb_samples as samples

TOPICS = {
    "astronomy": "stars galaxies telescopes orbits planets comets nebulae gravity light-years",
    "cooking": "recipes ovens spices flour butter simmering knives sauces roasting dough",
    "finance": "bonds interest rates inflation equities dividends budgets loans markets",
    "medicine": "vaccines clinics diagnosis surgery patients antibiotics nurses symptoms",
    "sailing": "boats harbours wind sails anchors tides navigation keels storms crews",
    "gardening": "soil seeds compost roses pruning watering greenhouses roots seedlings",
    "railways": "trains stations tracks signals timetables locomotives carriages tunnels",
    "music": "orchestras violins concerts melodies rhythm pianos choirs composers scores",
    "geology": "rocks minerals earthquakes faults sediments fossils magma erosion strata",
    "software": "compilers databases servers queues caches deployments tests latency",
}
VERBS = "describes explains shapes influences changes measures supports connects limits"
FILLER = "often usually rarely carefully slowly quickly locally widely seldom"


def _sentence(rng: random.Random, words: list[str]) -> str:
    picked = rng.sample(words, 3)
    return (f"The {picked[0]} {rng.choice(VERBS.split())} how {picked[1]} "
            f"{rng.choice(FILLER.split())} affect {picked[2]}.")


def document_text(index: int, sentences: int = 36) -> tuple[str, str]:
    """(topic, text) of document `index`."""
    rng = random.Random(index)
    topic = list(TOPICS)[index % len(TOPICS)]
    words = TOPICS[topic].split()
    paragraphs = [" ".join(_sentence(rng, words) for _ in range(6))
                  for _ in range(sentences // 6)]
    return topic, f"Notes on {topic}, part {index}.\n\n" + "\n\n".join(paragraphs)


def corpus(count: int, first: int = 0) -> list[tuple[str, bytes]]:
    """`count` (filename, content) pairs cycling through the five formats, documents `first`
    onwards."""
    files: list[tuple[str, bytes]] = []
    for index in range(first, first + count):
        topic, text = document_text(index)
        name = f"{topic}-{index:04}"
        match index % 5:
            case 0:
                files.append((f"{name}.txt", text.encode()))
            case 1:
                files.append((f"{name}.md", f"# {topic}\n\n{text}".encode()))
            case 2:
                body = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
                files.append((f"{name}.html", f"<html><body>{body}</body></html>".encode()))
            case 3:
                files.append((f"{name}.docx", samples.make_docx(text.split("\n\n"))))
            case _:
                files.append((f"{name}.pdf", samples.make_pdf(text)))
    return files


def queries(count: int) -> list[str]:
    rng = random.Random(-1)
    return [f"how do {' and '.join(rng.sample(TOPICS[topic].split(), 2))} relate"
            for topic in (rng.choice(list(TOPICS)) for _ in range(count))]


async def synced_knowledge_base(
    client: httpx.AsyncClient, name: str, files: list[tuple[str, bytes]]
) -> tuple[str, dict[str, Any], float]:
    """A knowledge base holding `files`, uploaded through the gateway and then fully synced:
    (its id, the finished sync task, seconds from the sync request to the task's end)."""
    response = await client.post("/api/v1/knowledge-bases", json={"name": name})
    response.raise_for_status()
    kb_id: str = response.json()["data"]["id"]
    for filename, content in files:
        (await client.post(f"/api/v1/knowledge-bases/{kb_id}/documents",
                           files={"file": (filename, content)})).raise_for_status()
    started = time.perf_counter()
    response = await client.post(f"/api/v1/knowledge-bases/{kb_id}/sync",
                                 json={"task_type": "full_sync", "document_ids": []})
    response.raise_for_status()
    task_id = response.json()["data"]["task_id"]
    # Polled often for a precise end, so through the knowledge base's task list (the task's
    # summary, one row): the task's own page lists every document, and reading 200 of them
    # ten times a second took the gateway and this process ~1 CPU-second per sync, which on
    # two cores is time taken from the sync being measured.
    while True:
        (latest,) = (await client.get(f"/api/v1/knowledge-bases/{kb_id}/sync-tasks",
                                      params={"limit": 1})).json()["data"]
        assert latest["id"] == task_id, latest
        if latest["status"] not in ("pending", "running"):
            break
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - started
    task: dict[str, Any] = (await client.get(f"/api/v1/sync-tasks/{task_id}")).json()["data"]
    assert task["status"] == "completed", task
    return kb_id, task, elapsed
