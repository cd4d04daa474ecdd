"""Markdown extraction (issue 21): the ingester's extractor (cmark-gfm, C) on ordinary and on
adversarial Markdown, against markdown-it-py (pure Python, parse only: less work than a full
extraction) on the same inputs in the same run. CPU seconds, so a busy machine changes little.

Ordinary: this repository's own Markdown (README and docs), repeated to 1 MB. Adversarial:
inputs built to make a backtracking or quadratic parser stall, at 1 MB for the extractor and
at 200 KB for markdown-it-py, whose time is scaled to 1 MB (it is linear: 10x the size, ~10x
the time)."""

import time
from pathlib import Path
from typing import Any

from services.ingester.extract import Limits, extract_text

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000
PEER_SIZE = 200_000
CASES = {
    "emphasis openers": b"*a ",
    "nested brackets": None,  # half '[' then half ']'
    "unclosed images": b"![",
    "code spans": b"`a` ",
    "a long table": None,
}


def _case(name: str, size: int) -> bytes:
    if name == "nested brackets":
        return b"[" * (size // 2) + b"]" * (size // 2)
    if name == "a long table":
        return b"|a|b|\n|-|-|\n" + b"|x|y|\n" * (size // 6)
    unit = CASES[name]
    assert unit is not None
    return unit * (size // len(unit))


def _ordinary(size: int) -> bytes:
    text = b"\n\n".join(path.read_bytes() for path in sorted([ROOT / "README.md",
                                                               *ROOT.glob("docs/*.md")]))
    return (text * (size // len(text) + 1))[:size]


def _cpu(fn: Any, *args: Any) -> float:
    started = time.process_time()
    fn(*args)
    return time.process_time() - started


async def run() -> dict[str, float]:
    from markdown_it import MarkdownIt

    peer = MarkdownIt("commonmark").enable("table")
    results: dict[str, float] = {}
    print(f"{'input':<20} {'ours 1 MB':>10} {'markdown-it-py 1 MB':>20} {'ratio':>7}")
    inputs = {"ordinary (docs)": (_ordinary(MB), _ordinary(PEER_SIZE))}
    inputs |= {name: (_case(name, MB), _case(name, PEER_SIZE)) for name in CASES}
    for name, (full, small) in inputs.items():
        ours = _cpu(extract_text, full, "markdown", Limits())
        theirs = _cpu(peer.parse, small.decode()) * MB / PEER_SIZE
        results[name] = ours
        print(f"{name:<20} {ours:>9.2f}s {theirs:>19.2f}s {theirs / ours:>6.1f}x")
    return results
