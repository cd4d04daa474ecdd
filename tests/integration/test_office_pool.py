"""The LibreOffice pool: converts, replaces an instance that exceeds its time limit (a
permanent failure), refuses a PDF over the size limit, recycles after N uses."""

from __future__ import annotations

import dataclasses

import pytest

from libs.office.pool import OFFICE_LIMITS, OfficePool
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
