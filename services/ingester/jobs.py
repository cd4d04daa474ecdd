"""The functions that run in the isolated worker processes (services/ingester/isolation.py); kept
apart so the forkserver preloads exactly this and what it imports."""

import contextlib

from services.ingester.chunker import Chunk, chunk_document
from services.ingester.extract import Limits, extract_text
from services.ingester.extract.images import extract_images
from services.ingester.tokens import token_counter

# Load the default model's tokenizer once in the forkserver: every child inherits it.
with contextlib.suppress(Exception):
    token_counter()


def extract_job(data: bytes, fmt: str, limits: Limits, with_images: bool,
                chunking: tuple[int, int, str]) -> tuple[str, list[bytes], list[Chunk] | None]:
    """The document's text, its embedded images for OCR, and its chunks when there are no
    images to read first (one isolated job per document, not two)."""
    text = extract_text(data, fmt, limits)
    images = extract_images(data, fmt, limits) if with_images else []
    return text, images, None if images else chunk_job(text, *chunking)


def chunk_job(text: str, size: int, overlap: int, model_path: str) -> list[Chunk]:
    """(size, overlap, model_path) is the handler's chunking recipe."""
    return chunk_document(text, size, overlap, token_counter(model_path))
