"""`Storage.open_upload` against an S3 server (moto): minio's multipart calls, which are not its
public API, do what libs/multipart.py needs: the parts become one object, an abort leaves none."""

from __future__ import annotations

import asyncio
import random

from libs.multipart import MIN_PART_SIZE
from libs.settings import CommonSettings
from libs.storage import Storage
from tests.harness import S3Endpoint


def _storage(s3: S3Endpoint) -> Storage:
    return Storage(CommonSettings(s3_endpoint=s3.endpoint, s3_access_key=s3.access_key,
                                  s3_secret_key=s3.secret_key, s3_bucket=s3.bucket))


async def test_a_zip_sized_stream_becomes_one_object_part_by_part(s3: S3Endpoint) -> None:
    storage = _storage(s3)
    data = random.Random(7).randbytes(2 * MIN_PART_SIZE + 300_001)  # two full parts and a tail

    def upload() -> None:
        target = storage.open_upload("multipart/whole.bin", "application/zip",
                                     part_size=MIN_PART_SIZE)
        for start in range(0, len(data), 1_000_000):
            target.write(data[start: start + 1_000_000])
        target.close()

    await asyncio.to_thread(upload)
    assert await storage.get_bytes("multipart/whole.bin", len(data)) == data
    await storage.delete("multipart/whole.bin")


async def test_an_aborted_upload_stores_nothing(s3: S3Endpoint) -> None:
    storage = _storage(s3)

    def upload() -> None:
        target = storage.open_upload("multipart/aborted.bin", "application/zip",
                                     part_size=MIN_PART_SIZE)
        target.write(random.Random(8).randbytes(MIN_PART_SIZE + 10))  # one part went up
        target.abort()

    await asyncio.to_thread(upload)
    assert not await storage.exists("multipart/aborted.bin")
