"""The functions that run in isolated child processes (services/ingester/isolation.py); kept
apart so the forkserver preloads exactly this and what it imports."""

from services.ingester.chunker import chunk_text
from services.ingester.extract import Limits, extract_text
from services.ingester.extract.images import extract_images


def extract_job(data: bytes, fmt: str, limits: Limits,
                with_images: bool) -> tuple[str, list[bytes]]:
    """The document's text and, for OCR, its embedded images."""
    text = extract_text(data, fmt, limits)
    return text, extract_images(data, fmt, limits) if with_images else []


def chunk_job(text: str, size: int, overlap: int) -> list[str]:
    return chunk_text(text, size, overlap)
