"""Safe handling of ZIP-based uploads (DOCX, XLSX): checked before anything parses them.

A zip bomb is refused by its declared sizes (total and per-entry ratio) without inflating a
byte; an archive whose entries lie about their sizes is caught while reading, because callers
read through `read_member`, which never inflates more than the declared size."""

import io
import zipfile
from dataclasses import dataclass


class UnsafeArchive(ValueError):
    pass


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 2_000
    max_total_bytes: int = 200 * 1024 * 1024  # inflated
    max_ratio: float = 200.0  # inflated / compressed, for entries over 1 MiB


def inspect_zip(data: bytes, *, required: str, what: str,
                limits: ArchiveLimits = ArchiveLimits()) -> zipfile.ZipFile:
    """Open `data` as a ZIP and check it is a sane `what` containing `required`."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UnsafeArchive(f"not a {what} file (not a ZIP archive)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsafeArchive(f"not a valid {what} file: {exc}") from exc
    if len(entries) > limits.max_entries:
        raise UnsafeArchive(f"{what} has {len(entries)} entries (limit {limits.max_entries})")
    total = 0
    for entry in entries:
        name = entry.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            raise UnsafeArchive(f"{what} contains an unsafe path: {name!r}")
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            raise UnsafeArchive(f"{what} looks like a zip bomb: {name!r} inflates {ratio:.0f}x")
    if total > limits.max_total_bytes:
        raise UnsafeArchive(f"{what} inflates to {total} bytes (limit {limits.max_total_bytes})")
    if required not in {entry.filename for entry in entries}:
        raise UnsafeArchive(f"not a {what} file: {required} is missing")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    """Read one entry, refusing to inflate more than `max_bytes` whatever its header says."""
    with archive.open(name) as member:
        data = member.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeArchive(f"{name} inflates past {max_bytes} bytes")
    return data
