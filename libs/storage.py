"""Artifacts in MinIO (any S3 endpoint). The minio client is synchronous, so calls run in a
thread; downloads go to clients as short-lived presigned URLs, never through our processes.

An object we rely on may be gone (deleted, an endpoint that lost its data): that is a fact to
report, not a hiccup to retry, so a missing key raises `ObjectMissing` (a `Permanent` error).
Other S3 errors become `StorageError` (retryable) carrying the S3 error code only: the raw
error text holds request and host ids that mean nothing to a client."""

import asyncio
import contextlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import Part
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from opentelemetry.trace import SpanKind

from libs.downloads import content_disposition, served_type
from libs.errors import Permanent, Retryable
from libs.multipart import PART_SIZE, MultipartWriter
from libs.observability import tracing
from libs.settings import CommonSettings

_MISSING = frozenset({"NoSuchKey", "NoSuchObject"})


class ObjectMissing(Permanent):
    code = "OBJECT_MISSING"

    def __init__(self, key: str) -> None:
        super().__init__(f"{self.code}: stored file {key} no longer exists")
        self.key = key


class StorageError(Retryable):
    def __init__(self, code: str, key: str) -> None:
        super().__init__(f"STORAGE_ERROR: {code} on {key}")
        self.code = code


@contextlib.contextmanager
def _s3_errors(key: str) -> Iterator[None]:
    try:
        yield
    except S3Error as exc:
        if exc.code in _MISSING:
            raise ObjectMissing(key) from None
        raise StorageError(exc.code or "S3Error", key) from None


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    modified_at: datetime | None


class Storage:
    def __init__(self, settings: CommonSettings) -> None:
        self.bucket = settings.s3_bucket
        self._ttl = timedelta(seconds=settings.presign_ttl_s)
        self._client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
        # Presigned URLs are signed for the host clients reach, which may differ from ours.
        self._signer = Minio(
            settings.s3_public_endpoint or settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )

    async def ensure_bucket(self) -> None:
        def ensure() -> None:
            if not self._client.bucket_exists(self.bucket):
                self._client.make_bucket(self.bucket)

        await asyncio.to_thread(ensure)

    async def bucket_exists(self) -> bool:
        """The bucket answers (a readiness check: S3 reachable and the bucket there)."""
        return await asyncio.to_thread(self._client.bucket_exists, self.bucket)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        def put() -> None:
            with _s3_errors(key):
                self._client.put_object(self.bucket, key, io.BytesIO(data), len(data),
                                        content_type=content_type)

        with tracing.span("s3.put", kind=SpanKind.CLIENT, attributes={"s3.bytes": len(data)}):
            await asyncio.to_thread(put)

    def open_upload(self, key: str, content_type: str, *,
                    part_size: int = PART_SIZE) -> MultipartWriter:
        """A file that becomes the object `key` when closed, for an object of unknown length:
        uploaded in parts as it is written, with memory bounded by two parts (libs/multipart.py).
        Blocking: write to it from a worker thread. `abort()` leaves no object behind."""
        return MultipartWriter(_MinioParts(self._client, self.bucket, key, content_type),
                               part_size=part_size)

    async def get_bytes(self, key: str, max_bytes: int) -> bytes:
        def get() -> bytes:
            with _s3_errors(key):
                response = self._client.get_object(self.bucket, key)
            try:
                data = response.read(max_bytes + 1)
            finally:
                response.close()
                response.release_conn()
            if len(data) > max_bytes:
                raise ValueError(f"object {key} is larger than {max_bytes} bytes")
            return data

        return await asyncio.to_thread(get)

    def copy_object_to(self, key: str, dest: IO[bytes], chunk_size: int = 1024 * 1024) -> int:
        """Stream an object into `dest` (blocking: call from a worker thread); returns bytes."""
        with _s3_errors(key):
            response = self._client.get_object(self.bucket, key)
        copied = 0
        try:
            for chunk in response.stream(chunk_size):
                dest.write(chunk)
                copied += len(chunk)
        finally:
            response.close()
            response.release_conn()
        return copied

    def open_range(self, key: str, offset: int, length: int) -> "_ClosingResponse":
        """A readable stream of `length` bytes of an object from `offset` (blocking: call from
        a worker thread); close it when done."""
        with _s3_errors(key):
            response = self._client.get_object(self.bucket, key, offset=offset, length=length)
        return _ClosingResponse(response)

    async def size(self, key: str) -> int:
        def stat() -> int:
            with _s3_errors(key):
                return int(self._client.stat_object(self.bucket, key).size or 0)

        return await asyncio.to_thread(stat)

    async def exists(self, key: str) -> bool:
        """False only when the object is missing; an unreachable endpoint raises."""
        try:
            await self.size(key)
        except ObjectMissing:
            return False
        return True

    async def missing(self, keys: Iterable[str], prefixes: Iterable[str]) -> list[str]:
        """The `keys` that are not stored; each lies under one of `prefixes`, which are listed
        (a page per 1,000 objects) instead of asking about every key."""
        present: set[str] = set()
        for prefix in set(prefixes):
            present.update(await asyncio.to_thread(self._keys_under, prefix))
        return [key for key in keys if key not in present]

    def _keys_under(self, prefix: str) -> set[str]:
        with _s3_errors(prefix):
            return {obj.object_name or "" for obj in
                    self._client.list_objects(self.bucket, prefix=prefix, recursive=True)}

    async def copy(self, source_key: str, target_key: str) -> bool:
        """Server-side copy within the bucket; False if the source does not exist."""

        def copy() -> bool:
            try:
                with _s3_errors(source_key):
                    self._client.copy_object(self.bucket, target_key,
                                             CopySource(self.bucket, source_key))
            except ObjectMissing:
                return False
            return True

        with tracing.span("s3.copy", kind=SpanKind.CLIENT):
            return await asyncio.to_thread(copy)

    async def delete_keys(self, keys: list[str]) -> None:
        def delete() -> None:
            errors = list(self._client.remove_objects(
                self.bucket, (DeleteObject(key) for key in keys)))
            if errors:
                raise RuntimeError(f"could not delete {len(errors)} of {len(keys)} objects")

        if keys:
            await asyncio.to_thread(delete)

    def presigned_get(
        self, key: str, *, filename: str | None = None, ttl_s: int | None = None,
        content_type: str | None = None,
    ) -> str:
        """A URL to fetch this one object; given a `filename` it downloads as an attachment of
        that (sanitized) name, given a `content_type` it is served as that."""
        headers: dict[str, str | list[str] | tuple[str]] = {}
        if filename:
            headers["response-content-disposition"] = content_disposition(filename)
        if content_type:
            headers["response-content-type"] = content_type
        return self._signer.presigned_get_object(
            self.bucket, key, expires=self._expiry(ttl_s), response_headers=headers or None
        )

    async def download_url(self, key: str, *, filename: str | None = None) -> str | None:
        """A presigned URL that serves a stored file to a browser safely (its type only when
        it is a safe one, libs/downloads.py); None when it is not stored."""

        def stored_type() -> str | None:
            with _s3_errors(key):
                return self._client.stat_object(self.bucket, key).content_type

        try:
            stored = await asyncio.to_thread(stored_type)
        except ObjectMissing:
            return None
        return self.presigned_get(key, filename=filename, content_type=served_type(stored))

    def presigned_put(self, key: str, *, ttl_s: int | None = None) -> str:
        """A URL that lets its holder upload this one object (e.g. a remote server's output)."""
        return self._signer.presigned_put_object(self.bucket, key, expires=self._expiry(ttl_s))

    def _expiry(self, ttl_s: int | None) -> timedelta:
        return self._ttl if ttl_s is None else timedelta(seconds=ttl_s)

    async def list_objects(self, prefix: str, *, limit: int) -> list[StoredObject]:
        """Objects under `prefix` in key order, at most `limit` (ask for one more than you
        accept to tell a full listing from a truncated one)."""

        def listing() -> list[StoredObject]:
            found = []
            for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                found.append(StoredObject(obj.object_name or "", int(obj.size or 0),
                                          obj.last_modified))
                if len(found) >= limit:
                    break
            return found

        return await asyncio.to_thread(listing)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._client.remove_object, self.bucket, key)

    async def delete_prefix(self, prefix: str) -> None:
        def delete() -> None:
            keys: Iterator[DeleteObject] = (
                DeleteObject(obj.object_name or "")
                for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True)
            )
            errors = list(self._client.remove_objects(self.bucket, keys))
            if errors:
                raise RuntimeError(f"could not delete {len(errors)} objects under {prefix}")

        return await asyncio.to_thread(delete)


def task_prefix(task_id: str) -> str:
    """Every artifact of a task lives under this prefix, so retention removes them in one sweep."""
    return f"tasks/{task_id}/"


class _ClosingResponse:
    """An object's body read as a file; closing it returns the connection to the pool."""

    def __init__(self, response: object) -> None:
        self._response = response

    def read(self, size: int = -1) -> bytes:
        return self._response.read(None if size < 0 else size)  # type: ignore[attr-defined,no-any-return]

    def close(self) -> None:
        self._response.close()  # type: ignore[attr-defined]
        self._response.release_conn()  # type: ignore[attr-defined]

    def __enter__(self) -> "_ClosingResponse":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _MinioParts:
    """minio's multipart calls for one object. They are not public API (its `put_object` with
    an unknown length is what uses them): minio is pinned, and tests/integration/
    test_multipart_upload.py runs them against an S3 server."""

    def __init__(self, client: Minio, bucket: str, key: str, content_type: str) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._content_type = content_type

    def begin(self) -> str:
        with _s3_errors(self._key):
            return self._client._create_multipart_upload(
                self._bucket, self._key, {"Content-Type": self._content_type})

    def upload(self, upload_id: str, number: int, data: memoryview) -> str:
        with _s3_errors(self._key):
            # minio hashes and sends the body through the buffer protocol: no copy is made
            return self._client._upload_part(self._bucket, self._key, data,  # type: ignore[arg-type]
                                             None, upload_id, number)

    def complete(self, upload_id: str, etags: list[str]) -> None:
        parts = [Part(number, etag) for number, etag in enumerate(etags, start=1)]
        with _s3_errors(self._key):
            self._client._complete_multipart_upload(self._bucket, self._key, upload_id, parts)

    def abort(self, upload_id: str) -> None:
        with _s3_errors(self._key):
            self._client._abort_multipart_upload(self._bucket, self._key, upload_id)
