"""PackWriter: PDFs finished one by one are stored as packs (services/docrender/batching.py)."""

import asyncio
import zlib
from typing import Any

import pytest

from services.docrender.batching import PackWriter


class _Bucket:
    def __init__(self, fail: bool = False) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail = fail

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        if self.fail:
            raise ConnectionError("bucket unreachable")
        self.objects[key] = data


def _writer(bucket: _Bucket, **options: Any) -> PackWriter:
    return PackWriter(bucket, **options)  # type: ignore[arg-type]


async def _produce(packs: PackWriter, task_id: str, data: bytes, delay_s: float) -> Any:
    with packs.producing(task_id):
        await asyncio.sleep(delay_s)
        return await packs.store(task_id, data)


async def test_documents_finished_close_together_share_one_pack() -> None:
    bucket = _Bucket()
    packs = _writer(bucket, linger_s=0.5)
    documents = [b"%PDF-one", b"%PDF-second", b"%PDF-third!"]
    placed = await asyncio.gather(*(_produce(packs, "t1", data, 0.01 * index)
                                    for index, data in enumerate(documents)))
    assert len(bucket.objects) == 1
    [(key, stored)] = bucket.objects.items()
    assert stored == b"".join(documents)
    for where, data in zip(placed, documents, strict=True):
        assert where.pack == key
        assert stored[where.offset:where.offset + where.length] == data
        assert where.crc == zlib.crc32(data)


async def test_the_last_document_of_a_task_does_not_wait_out_the_linger() -> None:
    bucket = _Bucket()
    packs = _writer(bucket, linger_s=30.0)
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(asyncio.gather(_produce(packs, "t1", b"a", 0.0),
                                          _produce(packs, "t1", b"b", 0.05)), 5)
    assert asyncio.get_running_loop().time() - started < 1.0
    assert len(bucket.objects) == 1


async def test_tasks_are_packed_apart_and_full_packs_written_at_once() -> None:
    bucket = _Bucket()
    packs = _writer(bucket, linger_s=30.0, max_documents=2)
    producers = [_produce(packs, task, data, 0.0) for task, data in
                 (("t1", b"a"), ("t1", b"b"), ("t2", b"c"), ("t2", b"d"))]
    placed = await asyncio.wait_for(asyncio.gather(*producers), 5)
    assert len(bucket.objects) == 2
    assert placed[0].pack == placed[1].pack != placed[2].pack == placed[3].pack


async def test_a_failed_write_fails_every_document_of_the_pack() -> None:
    packs = _writer(_Bucket(fail=True), linger_s=0.2)
    outcomes = await asyncio.gather(_produce(packs, "t1", b"a", 0.0),
                                    _produce(packs, "t1", b"b", 0.01), return_exceptions=True)
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)


async def test_store_outside_producing_is_written_at_once() -> None:
    bucket = _Bucket()
    where = await asyncio.wait_for(_writer(bucket, linger_s=30.0).store("t1", b"x"), 5)
    assert bucket.objects[where.pack] == b"x"


@pytest.mark.parametrize("linger_s", [0.05])
async def test_producing_count_is_released_on_failure(linger_s: float) -> None:
    packs = _writer(_Bucket(), linger_s=linger_s)
    with pytest.raises(RuntimeError), packs.producing("t1"):
        raise RuntimeError("render refused")
    where = await asyncio.wait_for(packs.store("t1", b"y"), 5)
    assert where.length == 1
