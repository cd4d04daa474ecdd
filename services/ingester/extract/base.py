"""What every extractor shares: its error, its limits, the formats' display names.

Every extractor returns plain text in which a heading, whatever the format called it (HTML's
h1-h6, a DOCX paragraph styled Title or Heading N, a Markdown heading), is a line of its own
written the Markdown way: `#` to `######` and a space before the title. The one chunker
(services/ingester/chunker.py) reads sections from those lines; plain text and PDF text that
already look like that are read the same way."""

import msgspec

FORMAT_LABELS = {"pdf": "PDF", "docx": "DOCX", "html": "HTML", "markdown": "Markdown",
                 "txt": "TXT"}


class ExtractionError(Exception):
    """The document can never be extracted as it is (corrupt, hostile, too large)."""


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    max_text_chars: int = 5_000_000
    max_pdf_pages: int = 2_000
    # A DOCX is a zip: refuse one that would expand past this, or whose parts expand more than
    # `max_zip_ratio` times (a zip bomb), before anything is decompressed.
    max_unzipped_bytes: int = 200 * 1024 * 1024
    max_zip_ratio: int = 200
    max_zip_entries: int = 5_000
    # Embedded images handed to OCR: at most this many per document, each within these bounds
    # (smaller ones are icons and rules; larger ones are decompression bombs).
    max_images: int = 20
    max_image_bytes: int = 5 * 1024 * 1024
    min_image_side: int = 48
    max_image_pixels: int = 40_000_000


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
