"""Images in documents: which ones reach OCR, and what OCR reads from them."""

import struct
import zlib

import pytest

from services.ingester.extract import Limits
from services.ingester.extract.images import extract_images
from services.ingester.ocr import Ocr
from tests import kb_samples as samples

LIMITS = Limits()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels (a decompression bomb's header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))


def test_docx_images_worth_reading_are_kept_icons_and_bombs_are_not() -> None:
    photo = samples.text_image(["Quantum entanglement"])
    icon = _png_header_only(16, 16)
    bomb = _png_header_only(30_000, 30_000)
    docx = samples.make_docx(["caption"], images=(photo,))
    assert extract_images(docx, "docx", LIMITS) == [photo]
    crowded = samples.make_docx(["x"], images=tuple(samples.text_image([word])
                                                    for word in ("one", "two", "three")))
    assert len(extract_images(crowded, "docx", Limits(max_images=2))) == 2
    for unusable in (icon, bomb):
        docx = samples._with_part(samples.make_docx(["x"], images=(photo,)),
                                  "word/media/image1.png", content=unusable)
        assert extract_images(docx, "docx", LIMITS) == []


def test_formats_without_embedded_images_have_none() -> None:
    assert extract_images(b"plain text", "txt", LIMITS) == []
    assert extract_images(samples.make_pdf("no images here"), "pdf", LIMITS) == []


@pytest.fixture()
def ocr() -> Ocr:
    found = Ocr.detect("chi_sim+eng", timeout_s=60, memory_bytes=1 << 30)
    if found is None:
        pytest.fail("tesseract is missing: scripts/setup.sh installs it")
    return found


async def test_ocr_reads_text_from_an_image(ocr: Ocr) -> None:
    text = await ocr.read(samples.text_image(["Quantum entanglement links", "two particles."]))
    assert "Quantum entanglement links" in text and "particles" in text


async def test_ocr_of_something_that_is_no_image_is_empty(ocr: Ocr) -> None:
    assert await ocr.read(b"not an image") == ""


def test_without_tesseract_ocr_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert Ocr.detect("eng", timeout_s=1, memory_bytes=1 << 30) is None
