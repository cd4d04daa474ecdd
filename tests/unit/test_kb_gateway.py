"""Gateway helpers of the knowledge-base API: seed 003's prefixed ids, upload names."""

import hashlib

import pytest
from litestar.datastructures import UploadFile

from services.gateway.errors import ApiError
from services.gateway.kb import ids
from services.gateway.kb.uploads import FORMATS, clean_filename, read_upload, storage_key

UUID = "0b7f9c8e-5d6a-4b3c-9e1f-2a3b4c5d6e7f"


def test_ids_round_trip_with_or_without_their_prefix() -> None:
    assert ids.public(ids.KB, UUID) == f"kb-{UUID}"
    assert ids.parse(ids.KB, f"kb-{UUID}") == UUID
    assert ids.parse(ids.TASK, UUID) == UUID
    assert ids.parse(ids.DOC, "doc-invalid-id") is None
    assert ids.parse(ids.DOC, f"kb-{UUID}") is None  # the wrong kind of id


def test_filenames_lose_paths_and_control_characters() -> None:
    assert clean_filename("../../etc/passwd.txt") == "passwd.txt"
    assert clean_filename("C:\\Users\\me\\报告.docx") == "报告.docx"
    assert clean_filename("a\x00b\nc.md") == "a_b_c.md"
    assert clean_filename("") == "document"
    long = clean_filename("x" * 500 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")


def test_supported_formats_and_content_addressed_keys() -> None:
    assert {fmt for fmt, _ in FORMATS.values()} == {"pdf", "docx", "html", "markdown", "txt"}
    assert storage_key("k", "d", "abc") == "kb/k/d/abc"


async def test_uploads_over_the_limit_are_refused_with_3003() -> None:
    big = UploadFile(content_type="text/plain", filename="big.txt", file_data=b"x" * 11)
    with pytest.raises(ApiError) as caught:
        await read_upload(big, max_bytes=10)
    assert (caught.value.status, caught.value.code) == (413, "3003")
    fine = await read_upload(UploadFile(content_type="text/plain", filename="../ok.MD",
                                        file_data=b"# hi"), max_bytes=10)
    assert (fine.filename, fine.format, fine.content) == ("ok.MD", "markdown", b"# hi")
    assert fine.sha256 == hashlib.sha256(b"# hi").hexdigest()
