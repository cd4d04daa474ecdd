"""PDF to text with pypdf, page by page, within a page limit."""

import io
import logging

from pypdf import PdfReader

from services.ingester.extract.base import ExtractionError, Limits

# pypdf logs a warning per recoverable defect; the outcome is what matters here.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def extract_pdf(data: bytes, limits: Limits) -> str:
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ExtractionError("文件损坏（缺少 PDF 文件头）")
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise ExtractionError("PDF 已加密，无法读取")
    pages = len(reader.pages)
    if pages == 0:
        raise ExtractionError("文件损坏（没有页面）")
    if pages > limits.max_pdf_pages:
        raise ExtractionError(f"页数过多 ({pages:,}，上限 {limits.max_pdf_pages:,})")
    texts: list[str] = []
    size = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        size += len(text)
        if size > limits.max_text_chars:
            raise ExtractionError(f"文本过长 (超过 {limits.max_text_chars:,} 字符)")
        texts.append(text)
    return "\n\n".join(texts)
