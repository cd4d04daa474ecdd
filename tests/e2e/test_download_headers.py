"""A stored file downloads under its own name and nothing else: a name cannot add parameters
to the Content-Disposition header (RFC 6266/5987, parsed here as a browser does: `filename*`
first), and a type a browser would run is served as application/octet-stream."""

from __future__ import annotations

from email.message import Message
from email.utils import collapse_rfc2231_value
from urllib.parse import quote

import httpx

from tests.e2e.conftest import Api, Stack

INJECTED = "a\";filename*=UTF-8''evil.html;x=\".txt"


def _names(disposition: str) -> tuple[str, str]:
    """(the `filename*` a browser uses, the ASCII `filename` fallback); each given once."""
    header = Message()
    header["Content-Disposition"] = disposition
    params = header.get_params(header="content-disposition") or []
    assert params[0] == ("attachment", "")
    extended = [value for key, value in params if key == "filename" and isinstance(value, tuple)]
    plain = [value for key, value in params if key == "filename" and isinstance(value, str)]
    assert len(extended) == 1 and len(plain) == 1 and len(params) == 3, params
    assert extended[0][0].upper() == "UTF-8"
    return collapse_rfc2231_value(extended[0]), plain[0]


async def _fetch(api: Api, path: str, content: bytes, content_type: str) -> httpx.Response:
    put = await api.http.put(f"/files{quote(path)}", content=content,
                             headers={"Content-Type": content_type})
    assert put.status_code == 201, put.text
    redirect = await api.http.get(f"/files{quote(path)}")
    assert redirect.status_code == 302, redirect.text
    async with httpx.AsyncClient(trust_env=False) as plain:
        fetched = await plain.get(redirect.headers["location"])
    assert fetched.status_code == 200 and fetched.content == content
    return fetched


async def test_an_injected_name_downloads_as_the_txt_file_it_names(stack: Stack) -> None:
    api = await stack.user("i21-downloads", "uploader")
    fetched = await _fetch(api, f"/cd/{INJECTED}", b"<script>alert(1)</script>", "text/html")
    utf8_name, fallback = _names(fetched.headers["content-disposition"])
    assert utf8_name == INJECTED and utf8_name.endswith(".txt")
    assert fallback.endswith(".txt") and '"' not in fallback and ";" not in fallback
    assert fetched.headers["content-type"] == "application/octet-stream"


async def test_types_a_browser_would_run_are_served_as_bytes(stack: Stack) -> None:
    api = await stack.user("i21-downloads", "types")
    served = {
        ("/t/合同 二〇二六.txt", "text/plain"): "text/plain",
        ("/t/pic.svg", "image/svg+xml"): "application/octet-stream",
        ("/t/page.xhtml", "application/xhtml+xml"): "application/octet-stream",
        ("/t/shot.png", "image/png"): "image/png",
    }
    for (path, stored), expected in served.items():
        fetched = await _fetch(api, path, b"<svg onload=alert(1)>", stored)
        assert fetched.headers["content-type"] == expected, path
        assert _names(fetched.headers["content-disposition"])[0] == path.rsplit("/", 1)[-1]
