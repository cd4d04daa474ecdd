"""Uploaded files: type by extension, a clean filename, size limits, content hash, S3 key.

Files are accepted by type, not by content: a corrupt PDF is stored like any other and fails
its own sync item with a precise error, which is where seed 003 reports such failures."""

import hashlib
import posixpath
import re

import msgspec
from litestar.datastructures import UploadFile

from services.gateway import errors

# extension -> (format, content type)
FORMATS = {
    ".pdf": ("pdf", "application/pdf"),
    ".docx": ("docx",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".html": ("html", "text/html"),
    ".htm": ("html", "text/html"),
    ".md": ("markdown", "text/markdown"),
    ".markdown": ("markdown", "text/markdown"),
    ".txt": ("txt", "text/plain"),
    ".text": ("txt", "text/plain"),
}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


class Upload(msgspec.Struct, frozen=True, kw_only=True):
    filename: str
    format: str
    content_type: str
    content: bytes
    sha256: str


def clean_filename(name: str) -> str:
    base = posixpath.basename(name.replace("\\", "/")).strip()
    base = _UNSAFE.sub("_", base)
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 200 - len(ext) - 1] + dot + ext) if dot else base[:200]
    return base or "document"


async def read_upload(file: UploadFile, max_bytes: int) -> Upload:
    filename = clean_filename(file.filename or "")
    extension = posixpath.splitext(filename.lower())[1]
    if extension not in FORMATS:
        raise errors.unsupported_type(filename, sorted(FORMATS))
    content = await file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise errors.document_too_large(len(content), max_bytes)
    if not content:
        raise errors.empty_document()
    fmt, content_type = FORMATS[extension]
    return Upload(filename=filename, format=fmt, content_type=content_type, content=content,
                  sha256=hashlib.sha256(content).hexdigest())


def kb_prefix(kb_id: str) -> str:
    return f"kb/{kb_id}/"


def document_prefix(kb_id: str, document_id: str) -> str:
    return f"{kb_prefix(kb_id)}{document_id}/"


def storage_key(kb_id: str, document_id: str, sha256: str) -> str:
    """Content-addressed: a replaced document gets a new key, so a sync that is still reading
    the old content never sees half of the new one."""
    return f"{document_prefix(kb_id, document_id)}{sha256}"
