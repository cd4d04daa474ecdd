"""Safe handling of ZIP-based uploads (DOCX, XLSX): checked before anything parses them.

A zip bomb is refused by its declared sizes (total and per-entry ratio) without inflating a
byte; an archive whose entries lie about their sizes is caught while reading, because zipfile
never inflates past an entry's declared size and `read_member` caps what it reads. The
exceptions carry the figures, so each API words its own message (seed 003 reports in Chinese)."""

import io
import zipfile
from dataclasses import dataclass


class UnsafeArchive(ValueError):
    pass


class TooManyEntries(UnsafeArchive):
    def __init__(self, what: str, count: int, limit: int) -> None:
        super().__init__(f"{what} has {count} entries (limit {limit})")
        self.count, self.limit = count, limit


class UnsafePath(UnsafeArchive):
    def __init__(self, what: str, name: str) -> None:
        super().__init__(f"{what} contains an unsafe path: {name!r}")
        self.name = name


class ZipBomb(UnsafeArchive):
    """Either one entry inflates too much (`member`, `ratio`) or all of them do (`total`)."""

    def __init__(self, what: str, *, member: str | None = None, ratio: float = 0.0,
                 total: int = 0, limit: float = 0) -> None:
        detail = (f"{member!r} inflates {ratio:.0f}x" if member is not None
                  else f"inflates to {total} bytes (limit {int(limit)})")
        super().__init__(f"{what} looks like a zip bomb: {detail}")
        self.member, self.ratio, self.total, self.limit = member, ratio, total, limit


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 2_000
    max_total_bytes: int = 200 * 1024 * 1024  # inflated
    max_ratio: float = 200.0  # inflated / compressed, for entries over 1 MiB


def check_entries(archive: zipfile.ZipFile, *, what: str,
                  limits: ArchiveLimits = ArchiveLimits()) -> None:
    """Refuse an archive by its directory alone: entry count, paths, sizes and ratios."""
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise TooManyEntries(what, len(entries), limits.max_entries)
    total = 0
    for entry in entries:
        name = entry.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            raise UnsafePath(what, name)
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            raise ZipBomb(what, member=name, ratio=ratio, limit=limits.max_ratio)
    if total > limits.max_total_bytes:
        raise ZipBomb(what, total=total, limit=limits.max_total_bytes)


def inspect_zip(data: bytes, *, required: str, what: str,
                limits: ArchiveLimits = ArchiveLimits()) -> zipfile.ZipFile:
    """Open `data` as a ZIP and check it is a sane `what` containing `required`."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UnsafeArchive(f"not a {what} file (not a ZIP archive)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsafeArchive(f"not a valid {what} file: {exc}") from exc
    check_entries(archive, what=what, limits=limits)
    if required not in archive.namelist():
        raise UnsafeArchive(f"not a {what} file: {required} is missing")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    """Read one entry, refusing to inflate more than `max_bytes` whatever its header says."""
    with archive.open(name) as member:
        data = member.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeArchive(f"{name} inflates past {max_bytes} bytes")
    return data
