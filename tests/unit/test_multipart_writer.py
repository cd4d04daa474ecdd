"""The part writer behind the batch ZIP upload (libs/multipart.py): the object is the bytes
written, parts have S3's sizes, a writer ahead of the uploads waits (memory is two parts
whatever the object's size), and a failed part leaves no object."""

from __future__ import annotations

import random
import threading
import time

import pytest

from libs.multipart import MIN_PART_SIZE, MultipartWriter

PART = MIN_PART_SIZE


class _Target:
    """An S3 stand-in recording parts; each upload takes `delay_s` and may fail."""

    def __init__(self, delay_s: float = 0.0, fail_part: int | None = None) -> None:
        self.parts: dict[int, bytes] = {}
        self.completed: list[str] | None = None
        self.aborted = False
        self.uploaded_bytes = 0
        self._delay_s, self._fail_part = delay_s, fail_part
        self._lock = threading.Lock()

    def begin(self) -> str:
        return "upload-1"

    def upload(self, upload_id: str, number: int, data: memoryview) -> str:
        assert upload_id == "upload-1"
        time.sleep(self._delay_s)
        if number == self._fail_part:
            raise ConnectionError(f"part {number} lost")
        self.parts[number] = bytes(data)
        with self._lock:
            self.uploaded_bytes += len(data)
        return f"etag-{number}"

    def complete(self, upload_id: str, etags: list[str]) -> None:
        self.completed = etags

    def abort(self, upload_id: str) -> None:
        self.aborted = True


def _chunks(data: bytes, seed: int) -> list[bytes]:
    rng, pieces, start = random.Random(seed), [], 0
    while start < len(data):
        size = rng.choice([1, 17, 4096, 65_536, 1_048_576, 3 * 1_048_576])
        pieces.append(data[start: start + size])
        start += size
    return pieces


def test_the_object_is_the_bytes_written_in_parts_of_the_set_size() -> None:
    data = random.Random(1).randbytes(4 * PART + 123_457)
    target = _Target()
    writer = MultipartWriter(target, part_size=PART)
    for chunk in _chunks(data, seed=2):
        assert writer.write(chunk) == len(chunk)
    writer.close()
    assert [len(target.parts[n]) for n in sorted(target.parts)] == [PART] * 4 + [123_457]
    assert b"".join(target.parts[n] for n in sorted(target.parts)) == data
    assert target.completed == [f"etag-{n}" for n in range(1, 6)] and not target.aborted


def test_an_empty_object_is_one_empty_part() -> None:
    target = _Target()
    MultipartWriter(target, part_size=PART).close()
    assert target.parts == {1: b""} and target.completed == ["etag-1"]


def test_a_writer_ahead_of_the_uploads_waits_two_parts_ahead_at_most() -> None:
    target = _Target(delay_s=0.05)  # uploads slower than copying: the writer gets ahead
    writer = MultipartWriter(target, part_size=PART)
    accepted, most_ahead = 0, 0
    for chunk in _chunks(random.Random(3).randbytes(8 * PART), seed=4):
        accepted += writer.write(chunk)
        most_ahead = max(most_ahead, accepted - target.uploaded_bytes)
    writer.close()
    assert len(target.parts) == 8
    # ahead by more than one part (it did not wait for each upload), never by more than two
    assert PART < most_ahead <= 2 * PART


def test_a_failed_part_fails_the_writer_and_stores_nothing() -> None:
    target = _Target(fail_part=2)
    writer = MultipartWriter(target, part_size=PART)
    with pytest.raises(ConnectionError, match="part 2 lost"):
        for chunk in _chunks(random.Random(5).randbytes(6 * PART), seed=6):
            writer.write(chunk)
        writer.close()
    assert target.aborted and target.completed is None
    writer.abort()  # the caller's own abort after the failure is harmless


def test_parts_smaller_than_s3_allows_are_refused() -> None:
    with pytest.raises(ValueError, match="5 MiB"):
        MultipartWriter(_Target(), part_size=1024 * 1024)
