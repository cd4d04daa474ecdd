"""The functions that run in isolated child processes (services/ingester/isolation.py); kept
apart so the forkserver preloads exactly this and what it imports."""

import contextlib

from services.ingester.chunker import Chunk, chunk_document
from services.ingester.extract import Limits, extract_text
from services.ingester.extract.images import extract_images
from services.ingester.tokens import token_counter

# Load the default model's tokenizer once in the forkserver: every child inherits it.
with contextlib.suppress(Exception):
    token_counter()


def extract_job(data: bytes, fmt: str, limits: Limits,
                with_images: bool) -> tuple[str, list[bytes]]:
    """The document's text and, for OCR, its embedded images."""
    text = extract_text(data, fmt, limits)
    return text, extract_images(data, fmt, limits) if with_images else []


def chunk_job(text: str, size: int, overlap: int, model_path: str) -> list[Chunk]:
    return chunk_document(text, size, overlap, token_counter(model_path))
