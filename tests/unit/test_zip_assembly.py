"""ZIPs assembled from compressed entries (libs.docxfast.zipraw) and unique entry names."""

from __future__ import annotations

import io
import zipfile

import pytest

from libs.docxfast.zipraw import DEFLATED, STORED, RawEntry, ZipWriter, read_entries
from proto.documents import TemplateRef
from services.docrender.naming import MANIFEST, zip_entry, zip_folders


def test_entries_round_trip_without_recompression() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.xml", "<a>" + "x" * 1000 + "</a>")
        archive.writestr("b.bin", b"\x00\x01" * 10, compress_type=zipfile.ZIP_STORED)
        archive.writestr("中文/c.txt", "文字")
    entries = read_entries(out.getvalue())
    assert [(e.name, e.method) for e in entries] == [
        ("a.xml", DEFLATED), ("b.bin", STORED), ("中文/c.txt", DEFLATED)]
    copy = io.BytesIO()
    writer = ZipWriter(copy)
    for entry in entries:
        writer.add(entry)
    writer.close()
    with zipfile.ZipFile(copy) as archive:
        assert archive.testzip() is None
        assert archive.read("中文/c.txt").decode() == "文字"
        assert archive.getinfo("a.xml").compress_size == entries[0].compressed.__len__()


def test_zip64_when_entries_pass_65535() -> None:
    out = io.BytesIO()
    writer = ZipWriter(out)
    count = 70_000
    for index in range(count):
        writer.add(RawEntry.stored(f"d/{index:06d}.txt", str(index).encode()))
    size = writer.close()
    assert size == len(out.getvalue())
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert len(names) == count
        assert archive.read("d/069999.txt") == b"69999"


def test_streamed_entry_must_match_its_declared_sizes() -> None:
    out = io.BytesIO()
    writer = ZipWriter(out)
    data = b"streamed in pieces" * 100
    entry = RawEntry.compress("s.txt", data)
    writer.begin("s.txt", entry.method, entry.crc, len(entry.compressed), entry.size)
    for start in range(0, len(entry.compressed), 7):
        writer.write(entry.compressed[start: start + 7])
    writer.close()
    assert zipfile.ZipFile(out).read("s.txt") == data


def test_duplicate_names_are_refused() -> None:
    writer = ZipWriter(io.BytesIO())
    writer.add(RawEntry.stored("x", b"1"))
    with pytest.raises(ValueError, match="duplicate"):
        writer.add(RawEntry.stored("x", b"2"))


def test_folders_are_unique_whatever_the_template_names() -> None:
    names_of = {
        "t1": "合同", "t2": "合同", "t3": "a/b", "t4": "a?b", "t5": "A_B", "t6": "manifest.json",
        "t7": "", "t8": "x" * 100, "t9": "x" * 90,
    }
    templates = {t: TemplateRef(name=name, key=f"templates/{t}") for t, name in names_of.items()}
    folders = zip_folders(templates)
    assert folders["t1"] == "合同" and folders["t3"] == "a_b"
    lowered = [folder.lower() for folder in folders.values()]
    assert len(set(lowered)) == len(templates) and MANIFEST not in lowered
    assert folders == zip_folders(templates)  # every process computes the same
    names = {zip_entry(folders[t], row, "docx") for t in templates for row in range(3)}
    assert len(names) == 3 * len(templates)
