"""Download headers from hostile names and types (libs/downloads.py)."""

from email.message import Message
from email.utils import collapse_rfc2231_value

import pytest

from libs.downloads import content_disposition, sanitized, served_type


def _params(header: str) -> list[tuple[str, object]]:
    message = Message()
    message["Content-Disposition"] = header
    return list(message.get_params(header="content-disposition") or [])


@pytest.mark.parametrize("name", [
    "a\";filename*=UTF-8''evil.html;x=\".txt", "合同 2026.docx", "résumé.pdf",
    "100% sure; 'quoted' = yes.txt", "back\\slash\r\n.txt",
])
def test_a_name_is_one_parameter_pair_whatever_it_holds(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    params = _params(header)
    assert [key for key, _ in params] == ["attachment", "filename", "filename"]
    extended = params[2][1]
    assert isinstance(extended, tuple)
    assert collapse_rfc2231_value(extended) == sanitized(name)
    fallback = params[1][1]
    assert isinstance(fallback, str) and not set(fallback) & set("\"\\;*'=%")


def test_sanitized_drops_paths_reordering_and_empty_names() -> None:
    assert sanitized("../../etc/passwd") == "passwd"
    assert sanitized("x\u202egpj.exe") == "xgpj.exe"  # no right-to-left override
    assert sanitized("..") == sanitized("") == "download"
    assert sanitized("  .hidden  name ") == "hidden name"


def test_only_safe_types_are_served_as_themselves() -> None:
    assert served_type("image/PNG") == "image/png"
    assert served_type("text/plain; charset=UTF-8") == "text/plain; charset=utf-8"
    for risky in ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml",
                  "application/javascript", "", None):
        assert served_type(risky) == "application/octet-stream"
