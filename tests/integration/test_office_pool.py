"""The LibreOffice pool: converts, replaces an instance that exceeds its time limit (a
permanent failure), refuses a PDF over the size limit, recycles after N uses."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from libs.office.pool import MEMORY_SCRATCH, OFFICE_LIMITS, OfficePool, scratch_root
from libs.office.warmup import warm_up_docx
from libs.sandbox import ResourceLimitExceeded
from tests.e2e.docs_fixtures import template


async def test_converts_and_restarts_after_timeout_and_recycles() -> None:
    source = template("你好 world")
    pool = OfficePool(1, max_conversions=2)
    await pool.start()
    try:
        assert (await pool.to_pdf(source)).startswith(b"%PDF")
        instance = pool._instances[0]
        assert instance.conversions == 1
        assert (await pool.to_pdf(source)).startswith(b"%PDF")
        assert instance.conversions == 0, "recycled after max_conversions"
        bridge = instance._process
        pool._limits = dataclasses.replace(OFFICE_LIMITS, wall_s=0.001)  # cannot finish
        with pytest.raises(ResourceLimitExceeded, match="time limit"):
            await pool.to_pdf(source)
        assert bridge is not None and bridge.returncode is not None, "the hung one is gone"
        assert instance.running and instance.conversions == 0, "replaced by a fresh one"
        pool._limits = dataclasses.replace(OFFICE_LIMITS, max_output_bytes=100)
        with pytest.raises(ResourceLimitExceeded, match="over the limit"):
            await pool.to_pdf(source)
        pool._limits = OFFICE_LIMITS
        assert (await pool.to_pdf(source)).startswith(b"%PDF")
    finally:
        await pool.stop()


async def test_starts_warm_in_memory_scratch_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """Each instance converts the warm-up document at start (and so the first real conversion
    skips loading Writer and the fonts); the pool's files, LibreOffice's own temporary files
    included, stay under its scratch directory and go with it."""
    pool = OfficePool(1, max_conversions=300, scratch=str(tmp_path))
    await pool.start()
    try:
        [workdir] = _listing(tmp_path)
        assert not _listing(workdir, "warm-up-*"), "warm-up files removed"
        assert (await pool.to_pdf(warm_up_docx())).startswith(b"%PDF")
        assert pool._instances[0].conversions == 1, "the warm-up is not counted"
        assert _listing(workdir, "profile-0/*"), "the profile lives in the scratch directory"
    finally:
        await pool.stop()
    assert not _listing(tmp_path)
    default = OfficePool(1, max_conversions=1)
    try:
        if scratch_root(MEMORY_SCRATCH) is not None:
            assert default._workdir.parent == Path(MEMORY_SCRATCH)
    finally:
        await default.stop()


def _listing(path: Path, pattern: str = "*") -> list[Path]:
    return sorted(path.glob(pattern))
