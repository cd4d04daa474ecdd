"""An object of unknown length (a batch ZIP of several gigabytes) written to S3 in parts with a
fixed memory budget, whatever its size.

Why not minio's `put_object(length=-1)`: it reads every part into a new bytes object, slices
it once more, and keeps up to three parts in flight in its upload threads: about 50 MB of
short-lived 10 MiB allocations per upload, spread over several threads' malloc arenas, which
glibc keeps once the peak is past (docrender grew by 163 MB while it streamed the ZIP of a
100,000-document batch). Here the writer copies into one of `buffers` part buffers, mapped
once outside the malloc heap (anonymous mmap: returned to the system when closed), while one
background thread uploads the full ones; a writer that gets ahead waits for a buffer to come
back. The memory held is `buffers * part_size`, set before the first byte."""

from __future__ import annotations

import mmap
import queue
import threading
from typing import Protocol

PART_SIZE = 8 * 1024 * 1024  # S3 allows 10,000 parts: objects up to 78 GiB
MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last


class PartTarget(Protocol):
    """One multipart upload of one object (blocking calls, made from the upload thread)."""

    def begin(self) -> str:
        """Starts the upload; returns its id."""

    def upload(self, upload_id: str, number: int, data: memoryview) -> str:
        """Uploads part `number` (from 1); returns its ETag. `data` is valid during the call."""

    def complete(self, upload_id: str, etags: list[str]) -> None:
        """Assembles the object from the parts, in order."""

    def abort(self, upload_id: str) -> None:
        """Discards the parts: no object is created."""


class MultipartWriter:
    """A write-only file whose bytes become one object: `close()` stores it, `abort()` (or a
    failed upload) leaves nothing behind. Blocking: use it from a worker thread."""

    def __init__(self, target: PartTarget, *, part_size: int = PART_SIZE,
                 buffers: int = 2) -> None:
        if part_size < MIN_PART_SIZE or buffers < 2:
            raise ValueError("parts of at least 5 MiB, and two buffers (one fills, one uploads)")
        self._target = target
        self._part_size = part_size
        self._buffers = [mmap.mmap(-1, part_size) for _ in range(buffers)]
        self._free: queue.Queue[mmap.mmap] = queue.Queue()
        for buffer in self._buffers[1:]:
            self._free.put(buffer)
        self._full: queue.Queue[tuple[int, mmap.mmap, int] | None] = queue.Queue()
        self._current, self._filled, self._parts = self._buffers[0], 0, 0
        self._etags: dict[int, str] = {}
        self._failure: BaseException | None = None
        self._finished = False
        self._upload_id = target.begin()
        self._uploader = threading.Thread(target=self._upload_parts, name="s3-part-upload",
                                          daemon=True)
        self._uploader.start()

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data).cast("B")
        written = len(view)
        while view:
            take = min(self._part_size - self._filled, len(view))
            self._current[self._filled: self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]
            if self._filled == self._part_size:
                self._hand_over()
        return written

    def close(self) -> None:
        """Uploads what is left and assembles the object; raises if any part failed."""
        if self._finished:
            return
        if self._filled or not self._parts:  # the last part (an empty object: one empty part)
            self._hand_over(last=True)
        self._stop()
        try:
            if self._failure is not None:
                raise self._failure
            self._target.complete(self._upload_id, [self._etags[n + 1]
                                                    for n in range(self._parts)])
        except BaseException:
            self._target.abort(self._upload_id)
            raise

    def abort(self) -> None:
        """Discards everything written (the upload's parts included)."""
        if self._finished:
            return
        self._stop()
        self._target.abort(self._upload_id)

    def _hand_over(self, *, last: bool = False) -> None:
        """The current buffer goes to the uploader; the writer takes a free one, waiting for
        an upload to finish if none is (that wait is what bounds memory)."""
        self._parts += 1
        self._full.put((self._parts, self._current, self._filled))
        self._filled = 0
        if not last:
            self._current = self._free.get()
            if self._failure is not None:
                failure = self._failure
                self.abort()
                raise failure

    def _stop(self) -> None:
        self._finished = True
        self._full.put(None)
        self._uploader.join()
        for buffer in self._buffers:
            try:
                buffer.close()
            except BufferError:  # a view the client kept: the mapping goes with that view
                pass

    def _upload_parts(self) -> None:
        while (job := self._full.get()) is not None:
            number, buffer, length = job
            try:
                if self._failure is None:  # after a failure, buffers only go back
                    with memoryview(buffer) as whole, whole[:length] as part:
                        self._etags[number] = self._target.upload(self._upload_id, number, part)
            except BaseException as exc:  # raised to the writer at its next hand-over or close
                self._failure = exc
            finally:
                self._free.put(buffer)
