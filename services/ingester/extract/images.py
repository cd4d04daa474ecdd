"""Images embedded in PDF and DOCX documents, for OCR. Only what can be read safely and is
worth reading is kept: a bounded number, each of a sane size, checked from its header before
anything is decoded. A broken image is skipped, never a reason to fail its document."""

import io
import zipfile
from collections.abc import Iterator

from PIL import Image

from services.ingester.extract.base import Limits
from services.ingester.extract.docx import check_zip

_MEDIA = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff")


def _usable(data: bytes, limits: Limits) -> bool:
    if len(data) > limits.max_image_bytes:
        return False
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            width, height = image.size
    except Exception:
        return False
    return (min(width, height) >= limits.min_image_side
            and width * height <= limits.max_image_pixels)


def _docx_media(data: bytes, limits: Limits) -> Iterator[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        check_zip(archive, limits)
        for entry in archive.infolist():
            if entry.filename.startswith("word/media/") and entry.filename.lower().endswith(
                    _MEDIA) and entry.file_size <= limits.max_image_bytes:
                yield archive.read(entry)


def _pdf_images(data: bytes, limits: Limits) -> Iterator[bytes]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    for page in reader.pages[: limits.max_pdf_pages]:
        try:
            images = list(page.images)
        except Exception:
            continue
        for image in images:
            try:
                yield image.data
            except Exception:
                continue


def extract_images(data: bytes, fmt: str, limits: Limits) -> list[bytes]:
    """Up to `limits.max_images` images worth reading from a PDF or DOCX (none from others)."""
    sources = {"docx": _docx_media, "pdf": _pdf_images}
    if fmt not in sources:
        return []
    kept: list[bytes] = []
    try:
        for candidate in sources[fmt](data, limits):
            if _usable(candidate, limits):
                kept.append(candidate)
                if len(kept) == limits.max_images:
                    break
    except Exception:  # the text extraction already judged the file; images are a bonus
        return kept
    return kept
