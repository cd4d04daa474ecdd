"""Retrieval quality of knowledge-base search (issue 15), through the gateway.

The corpus is real documents, not generated text: the five Chinese API documents the project's
APIs come from (`seed-*.md`, copied into bench/kb_eval/zh/ so the benchmark stands alone) and
five of this project's own English docs (a snapshot in bench/kb_eval/en/), synced into one
knowledge base. Each question is what a
user would ask, in their own words, about one document; its answer is that document. A question
scores by the rank of the first chunk of its document among the top 10 chunks (documents
counted once each, in result order): hit@1, hit@3 and the mean reciprocal rank (MRR; 0 when the
document is not in the top 10), for each mode of `POST /search`: vector only, keyword only and
hybrid (both fused).

A second, held-out set (bench/kb_eval_held_out.py) asks other questions about other
documents, each set in a knowledge base of its own; both are reported.

Run alone: `.venv/bin/python -m bench.kb_eval` (starts its own stack)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import msgspec
import uvloop

from bench import kb_eval_held_out
from bench.kb_corpus import synced_knowledge_base
from bench.stack import isolated_stack

CORPUS = Path(__file__).parent / "kb_eval"
MODES = ("vector", "keyword", "hybrid")
TOP_K = 10

CHINESE = {
    "生成好的文档怎么打包成一个文件下载？": "seed-000-documents.md",
    "批量文档任务暂停以后怎么继续？": "seed-000-documents.md",
    "怎样实时收到文档生成进度的推送？": "seed-000-documents.md",
    "每批处理多少条数据性能比较好？": "seed-000-documents.md",
    "幻灯片图片批量生成时最多能同时生成几张？": "seed-001-slides.md",
    "单张幻灯片失败会影响其他幻灯片吗？": "seed-001-slides.md",
    "怎么查询当前还有多少个批量任务在跑？": "seed-001-slides.md",
    "批量任务的会话日志在哪里查看？": "seed-001-slides.md",
    "一个中等复杂度的应用生成大概要多长时间？": "seed-002-tasks.md",
    "Redis 里的状态丢了怎么办？": "seed-002-tasks.md",
    "任务超过半小时没完成会怎样？": "seed-002-tasks.md",
    "怎么查看任务用了多少 token？": "seed-002-tasks.md",
    "全量同步和增量同步有什么不同？": "seed-003-kb-sync.md",
    "知识库里有个同步在跑的时候还能再发起一个吗？": "seed-003-kb-sync.md",
    "同步完成后有几个文档失败了，怎么只重新处理它们？": "seed-003-kb-sync.md",
    "同步进度百分比是怎么计算的？": "seed-003-kb-sync.md",
    "怎么把一台新机器登记到系统里？": "seed-004-servers.md",
    "发起批处理之前怎么确认服务器空闲？": "seed-004-servers.md",
    "服务器可能处于哪些状态？": "seed-004-servers.md",
    "内网接口的 Swagger 文档地址是多少？": "seed-004-servers.md",
}

ENGLISH = {
    "Which make target stops the local cluster?": "readme.md",
    "Where are heavy dependencies like torch pinned?": "readme.md",
    "What does each top-level folder of the repository hold?": "readme.md",
    "Why does no item start anywhere once a task is paused?": "architecture.md",
    "How many items does the scheduler keep in flight for one task?": "architecture.md",
    "Which exchange carries knowledge-base search requests?": "architecture.md",
    "How are bearer tokens stored?": "architecture.md",
    "Why can't I trust presigned URL expiry when testing locally?": "running.md",
    "Which environment variable sets the database connection?": "running.md",
    "Where do the service logs go on a local run?": "running.md",
    "How do I build the ingester image without pulling the CUDA build of torch?": "running.md",
    "What must a remote server answer on its health endpoint?": "remote-protocol.md",
    "What happens to a batch when its remote server goes offline?": "remote-protocol.md",
    "How many files may a remote server take in one batch?": "remote-protocol.md",
    "What are the steps to add a new kind of batch job?": "extending.md",
}


class QuestionSet(msgspec.Struct, frozen=True):
    """Documents (zh/ and en/ under `directory`) and the questions they answer."""

    name: str
    directory: Path
    chinese: dict[str, str]
    english: dict[str, str]

    def corpus(self) -> list[tuple[str, bytes]]:
        return [(path.name, path.read_bytes()) for language in ("zh", "en")
                for path in sorted((self.directory / language).glob("*.md"))]


FIRST = QuestionSet("first", CORPUS, CHINESE, ENGLISH)
HELD_OUT = QuestionSet("held-out", CORPUS / "held_out", kb_eval_held_out.CHINESE,
                       kb_eval_held_out.ENGLISH)
SETS = (FIRST, HELD_OUT)


def corpus() -> list[tuple[str, bytes]]:
    return FIRST.corpus()


async def build(client: httpx.AsyncClient, name: str = "eval",
                questions: QuestionSet = FIRST) -> str:
    """A knowledge base holding the set's corpus, synced; returns its id."""
    kb_id, _, _ = await synced_knowledge_base(client, name, questions.corpus())
    return kb_id


async def _rank(client: httpx.AsyncClient, kb_id: str, question: str, answer: str,
                mode: str) -> int | None:
    response = await client.post(f"/api/v1/knowledge-bases/{kb_id}/search",
                                 json={"query": question, "top_k": TOP_K, "mode": mode})
    response.raise_for_status()
    documents = list(dict.fromkeys(hit["filename"]
                                   for hit in response.json()["data"]["results"]))
    return documents.index(answer) + 1 if answer in documents else None


def _scores(ranks: list[int | None]) -> dict[str, float]:
    return {"hit@1": sum(rank == 1 for rank in ranks) / len(ranks),
            "hit@3": sum(rank is not None and rank <= 3 for rank in ranks) / len(ranks),
            "mrr": sum(1 / rank for rank in ranks if rank) / len(ranks)}


async def evaluate(client: httpx.AsyncClient, kb_id: str,
                   questions: QuestionSet = FIRST) -> dict[str, dict[str, float]]:
    """{"zh/hybrid": {"hit@1": ..., "hit@3": ..., "mrr": ...}, ...}"""
    figures: dict[str, dict[str, float]] = {}
    for language, asked in (("zh", questions.chinese), ("en", questions.english)):
        for mode in MODES:
            ranks = [await _rank(client, kb_id, question, answer, mode)
                     for question, answer in asked.items()]
            figures[f"{language}/{mode}"] = _scores(ranks)
    return figures


def report(figures: dict[str, dict[str, float]], questions: QuestionSet = FIRST) -> None:
    """The table of one set, and whether hybrid is at least the better single signal."""
    print(f"retrieval, {questions.name} set: {len(questions.chinese)} Chinese and "
          f"{len(questions.english)} English questions over {len(questions.corpus())} "
          f"documents (document of the first matching chunk, top {TOP_K})")
    print("  questions  mode     hit@1  hit@3  MRR")
    for key, scores in figures.items():
        language, mode = key.split("/")
        print(f"  {language:<9}  {mode:<7}  {scores['hit@1']:.2f}   {scores['hit@3']:.2f}   "
              f"{scores['mrr']:.2f}")
    for language in ("zh", "en"):
        hybrid = figures[f"{language}/hybrid"]
        for measure in ("hit@1", "mrr"):
            best = max(figures[f"{language}/vector"][measure],
                       figures[f"{language}/keyword"][measure])
            verdict = "ok" if hybrid[measure] >= best - 1e-9 else "BELOW"
            print(f"  {language} hybrid {measure} {hybrid[measure]:.2f} vs the better single "
                  f"signal {best:.2f}: {verdict}")


async def evaluate_all(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    """Both sets, each in its own knowledge base, reported as they finish: (the first set's
    knowledge base, {set name: figures})."""
    results: dict[str, Any] = {}
    first_kb = ""
    for questions in SETS:
        kb_id = await build(client, f"eval-{questions.name}", questions)
        first_kb = first_kb or kb_id
        results[questions.name] = await evaluate(client, kb_id, questions)
        report(results[questions.name], questions)
    return first_kb, results


async def run() -> dict[str, Any]:
    async with isolated_stack(["registry", "scheduler", "gateway", "ingester"]) as (
            _, url, token):
        async with httpx.AsyncClient(base_url=url, timeout=120,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            _, figures = await evaluate_all(client)
    return figures


if __name__ == "__main__":
    uvloop.run(run())
