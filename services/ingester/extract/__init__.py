"""Text extraction per document format. Every extractor treats its input as hostile: sizes are
checked before anything is expanded, XML with a DTD is refused, and failures raise
`ExtractionError` with a message fit for the task's `error_message`. The ingester runs these in
a separate, memory-limited process (services/ingester/isolation.py)."""

from services.ingester.extract.base import FORMAT_LABELS, ExtractionError, Limits
from services.ingester.extract.docx import extract_docx
from services.ingester.extract.html import extract_html
from services.ingester.extract.pdf import extract_pdf
from services.ingester.extract.text import extract_markdown, extract_txt

_EXTRACTORS = {
    "pdf": extract_pdf,
    "docx": extract_docx,
    "html": extract_html,
    "markdown": extract_markdown,
    "txt": extract_txt,
}


def extract_text(data: bytes, fmt: str, limits: Limits) -> str:
    """The document's plain text; raises ExtractionError("<FORMAT>转换失败: <why>")."""
    extractor = _EXTRACTORS.get(fmt)
    if extractor is None:
        raise ExtractionError(f"不支持的文档格式: {fmt}")
    label = FORMAT_LABELS[fmt]
    try:
        text = extractor(data, limits)
    except ExtractionError as exc:
        raise ExtractionError(f"{label}转换失败: {exc}") from None
    except MemoryError:
        raise ExtractionError(f"{label}转换失败: 超出内存上限") from None
    except Exception as exc:  # a parser's own error on a malformed file
        detail = f"{type(exc).__name__}: {exc}"[:300]
        raise ExtractionError(f"{label}转换失败: 文件损坏 ({detail})") from None
    if len(text) > limits.max_text_chars:
        raise ExtractionError(
            f"{label}转换失败: 文本过长 ({len(text):,} 字符，上限 {limits.max_text_chars:,})")
    return text


__all__ = ["FORMAT_LABELS", "ExtractionError", "Limits", "extract_text"]
