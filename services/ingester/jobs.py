"""The functions that run in isolated child processes (services/ingester/isolation.py); kept
apart so the forkserver preloads exactly this and what it imports."""

from services.ingester.chunker import chunk_text
from services.ingester.extract import Limits, extract_text


def extract_job(data: bytes, fmt: str, limits: Limits) -> str:
    return extract_text(data, fmt, limits)


def chunk_job(text: str, size: int, overlap: int) -> list[str]:
    return chunk_text(text, size, overlap)
