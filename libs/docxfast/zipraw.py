"""ZIP entries as compressed bytes: read a package's entries without inflating them, and write a
ZIP (streamed, ZIP64 when needed) from entries that are already compressed.

This is what lets a DOCX be emitted by copying every unchanged part's compressed bytes, and a
batch ZIP be assembled by copying documents as they were stored: nothing is inflated and
deflated again. Only the features DOCX packages and our archives use: methods stored (0) and
deflate (8), no encryption, no multi-disk."""

from __future__ import annotations

import hashlib
import struct
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

STORED, DEFLATED = 0, 8
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_LIMIT16, _LIMIT32 = 0xFFFF, 0xFFFFFFFF
_UTF8_FLAG = 0x800
_VERSION = 20  # 2.0: deflate; 45 when an entry needs ZIP64
_VERSION64 = 45
# 1980-01-01 00:00: a fixed timestamp keeps rendered documents byte-for-byte reproducible.
DEFAULT_DOS_TIME = (0 << 11, (1 << 5) | 1)
# "Made by" Unix, with regular-file mode 0644: Info-ZIP's unzip then trusts the UTF-8 flag and
# shows non-ASCII names as they are (made by MS-DOS, it reads them as a DOS code page).
_MADE_BY_UNIX = 3 << 8
_UNIX_FILE_MODE = 0o100644 << 16


def dos_time(moment: datetime) -> tuple[int, int]:
    """(time, date) in DOS format, to the even second DOS keeps."""
    return ((moment.hour << 11) | (moment.minute << 5) | (moment.second // 2),
            ((max(moment.year, 1980) - 1980) << 9) | (moment.month << 5) | moment.day)


class Readable(Protocol):
    """A stream read in pieces (a file, or an object-storage response)."""

    def read(self, amt: int, /) -> bytes: ...


class Writable(Protocol):
    """Where a ZIP goes: a file, or an upload written as it goes."""

    def write(self, data: bytes, /) -> int: ...


class BadZip(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry's compressed bytes and what a central directory needs to describe them."""

    name: str
    method: int
    crc: int
    compressed: bytes
    size: int
    dos_time: tuple[int, int] = DEFAULT_DOS_TIME  # (time, date) in DOS format

    @classmethod
    def compress(cls, name: str, data: bytes, dos_time: tuple[int, int] = DEFAULT_DOS_TIME,
                 level: int = 6) -> RawEntry:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        packed = compressor.compress(data) + compressor.flush()
        return cls(name, DEFLATED, zlib.crc32(data), packed, len(data), dos_time)

    @classmethod
    def stored(cls, name: str, data: bytes) -> RawEntry:
        return cls(name, STORED, zlib.crc32(data), data, len(data))

    def inflate(self) -> bytes:
        if self.method == STORED:
            return self.compressed
        return zlib.decompress(self.compressed, -15)


def read_entries(data: bytes) -> list[RawEntry]:
    """Every entry of a ZIP, in central-directory order, compressed bytes untouched."""
    import zipfile  # the central directory parser (ZIP64 included) is the standard library's

    try:
        archive = zipfile.ZipFile(_Bytes(data))
    except zipfile.BadZipFile as exc:
        raise BadZip(str(exc)) from exc
    entries = []
    for info in archive.infolist():
        if info.flag_bits & 0x1 or info.compress_type not in (STORED, DEFLATED):
            raise BadZip(f"{info.filename}: encrypted or unsupported compression")
        start = info.header_offset
        header = data[start: start + _LOCAL.size]
        if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
            raise BadZip(f"{info.filename}: bad local header")
        fields = _LOCAL.unpack(header)
        begin = start + _LOCAL.size + fields[9] + fields[10]
        compressed = data[begin: begin + info.compress_size]
        if len(compressed) != info.compress_size:
            raise BadZip(f"{info.filename}: truncated")
        date_time = info.date_time
        dos_time = ((date_time[3] << 11) | (date_time[4] << 5) | (date_time[5] // 2),
                    ((date_time[0] - 1980) << 9) | (date_time[1] << 5) | date_time[2])
        entries.append(RawEntry(info.filename, info.compress_type, info.CRC, compressed,
                                info.file_size, dos_time))
    return entries


class _Bytes:
    """A minimal seekable reader over bytes (zipfile wants a file; BytesIO would copy)."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else min(self._pos + size, len(self._view))
        chunk = bytes(self._view[self._pos: end])
        self._pos = end
        return chunk

    def seekable(self) -> bool:
        return True


@dataclass(slots=True)
class _Written:
    name: bytes
    method: int
    crc: int
    compressed_size: int
    size: int
    offset: int
    dos_time: tuple[int, int]


class ZipWriter:
    """Writes a ZIP to a forward-only stream: each entry's local header and compressed bytes as
    they come (or streamed in pieces with `begin` then `write`, the sizes known up front), then
    the central directory, with ZIP64 records once offsets, sizes or the entry count pass the
    32/16-bit limits. Memory barely grows with the number of entries: each entry's directory
    record is spooled to a temporary file as the entry begins; names are checked for uniqueness
    by a 16-byte digest kept in a set (about 90 bytes an entry: 9 MB for 100,000)."""

    def __init__(self, out: Writable, *, unix: bool = False) -> None:
        """`unix`: entries say they were made on Unix, as files of mode 0644 (archives people
        unpack; a DOCX package keeps the MS-DOS origin Word writes)."""
        self._out = out
        self._unix = unix
        self._offset = 0
        self._count = 0
        self._directory = tempfile.TemporaryFile()
        self._names: set[bytes] = set()

    @property
    def offset(self) -> int:
        return self._offset

    def add(self, entry: RawEntry) -> None:
        self.begin(entry.name, entry.method, entry.crc, len(entry.compressed), entry.size,
                   entry.dos_time)
        self.write(entry.compressed)

    def begin(self, name: str, method: int, crc: int, compressed_size: int, size: int,
              dos_time: tuple[int, int] = DEFAULT_DOS_TIME) -> None:
        encoded = name.encode("utf-8")
        digest = hashlib.blake2b(encoded, digest_size=16).digest()
        if digest in self._names:
            raise ValueError(f"duplicate ZIP entry name {name!r}")
        self._names.add(digest)
        record = _Written(encoded, method, crc & _LIMIT32, compressed_size, size, self._offset,
                          dos_time)
        self._directory.write(_central_record(record, self._unix))
        self._count += 1
        self._emit(_local_header(record))

    def write(self, chunk: bytes) -> None:
        self._emit(chunk)

    def close(self) -> int:
        """Writes the central directory; returns the archive's total size."""
        directory_start = self._offset
        directory_size = self._directory.tell()
        self._directory.seek(0)
        for chunk in iter_chunks(self._directory, directory_size):
            self._emit(chunk)
        self._directory.close()
        count = self._count
        if count >= _LIMIT16 or directory_start >= _LIMIT32 or directory_size >= _LIMIT32:
            end64_at = self._offset
            self._emit(_END64.pack(b"PK\x06\x06", _END64.size - 12, _VERSION64, _VERSION64, 0,
                                   0, count, count, directory_size, directory_start))
            self._emit(_LOCATOR64.pack(b"PK\x06\x07", 0, end64_at, 1))
        self._emit(_END.pack(b"PK\x05\x06", 0, 0, min(count, _LIMIT16), min(count, _LIMIT16),
                             min(directory_size, _LIMIT32), min(directory_start, _LIMIT32), 0))
        return self._offset

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self._offset += len(data)


def _central_record(record: _Written, unix: bool = False) -> bytes:
    extra_fields = []
    size, compressed_size, offset = record.size, record.compressed_size, record.offset
    if size >= _LIMIT32:
        extra_fields.append(size)
        size = _LIMIT32
    if compressed_size >= _LIMIT32:
        extra_fields.append(compressed_size)
        compressed_size = _LIMIT32
    if offset >= _LIMIT32:
        extra_fields.append(offset)
        offset = _LIMIT32
    extra = (struct.pack(f"<2H{len(extra_fields)}Q", 1, 8 * len(extra_fields), *extra_fields)
             if extra_fields else b"")
    version = _VERSION64 if extra_fields else _VERSION
    flags = _UTF8_FLAG if not record.name.isascii() else 0
    return _CENTRAL.pack(
        b"PK\x01\x02", version | (_MADE_BY_UNIX if unix else 0), version, flags, record.method,
        record.dos_time[0], record.dos_time[1], record.crc, compressed_size, size,
        len(record.name), len(extra), 0, 0, 0, _UNIX_FILE_MODE if unix else 0,
        offset) + record.name + extra


def _local_header(record: _Written) -> bytes:
    big = record.compressed_size >= _LIMIT32 or record.size >= _LIMIT32
    extra = struct.pack("<2H2Q", 1, 16, record.size, record.compressed_size) if big else b""
    flags = _UTF8_FLAG if not record.name.isascii() else 0
    return _LOCAL.pack(
        b"PK\x03\x04", _VERSION64 if big else _VERSION, flags, record.method,
        record.dos_time[0], record.dos_time[1], record.crc,
        _LIMIT32 if big else record.compressed_size, _LIMIT32 if big else record.size,
        len(record.name), len(extra)) + record.name + extra


@dataclass(frozen=True, slots=True)
class Prefix:
    """Entries written once and reused as the start of many small archives (a template's
    unchanged parts): their local records and their central-directory records."""

    data: bytes
    directory: bytes
    count: int

    @classmethod
    def of(cls, entries: list[RawEntry]) -> Prefix:
        return cls(b"", b"", 0).archive(entries)[1]

    def archive(self, entries: list[RawEntry]) -> tuple[bytes, Prefix]:
        """This prefix followed by `entries`: the whole archive, and the longer prefix. For
        small archives only (no ZIP64: under 4 GiB and 65,535 entries)."""
        pieces, directory, offset = [self.data], [self.directory], len(self.data)
        for entry in entries:
            record = _Written(entry.name.encode("utf-8"), entry.method, entry.crc & _LIMIT32,
                              len(entry.compressed), entry.size, offset, entry.dos_time)
            local = _local_header(record)
            pieces += (local, entry.compressed)
            directory.append(_central_record(record))
            offset += len(local) + len(entry.compressed)
        count = self.count + len(entries)
        joined = b"".join(directory)
        if offset >= _LIMIT32 or count >= _LIMIT16:
            raise ValueError("too large for a single-pass archive: use ZipWriter")
        data = b"".join(pieces)
        end = _END.pack(b"PK\x05\x06", 0, 0, count, count, len(joined), offset, 0)
        return data + joined + end, Prefix(data, joined, count)


def iter_chunks(stream: Readable, length: int, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
    """Exactly `length` bytes of a stream, in pieces."""
    left = length
    while left > 0:
        chunk = stream.read(min(chunk_size, left))
        if not chunk:
            raise BadZip(f"stream ended {left} bytes early")
        left -= len(chunk)
        yield chunk
