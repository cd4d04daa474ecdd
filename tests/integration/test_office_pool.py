"""The LibreOffice pool: converts, restarts an instance that hangs, recycles after N uses."""

from __future__ import annotations

import pytest

from libs.errors import Retryable
from libs.office.pool import OfficePool
from tests.e2e.docs_fixtures import template


async def test_converts_and_restarts_after_timeout_and_recycles() -> None:
    source = template("你好 world")
    pool = OfficePool(1, max_conversions=2, timeout_s=60)
    await pool.start()
    try:
        assert (await pool.to_pdf(source)).startswith(b"%PDF")
        instance = pool._instances[0]
        assert instance.conversions == 1
        assert (await pool.to_pdf(source)).startswith(b"%PDF")
        assert instance.conversions == 0, "recycled after max_conversions"
        pool._timeout_s = 0.001  # a conversion that cannot finish in time
        with pytest.raises(Retryable, match="did not finish"):
            await pool.to_pdf(source)
        pool._timeout_s = 60
        assert instance.running and instance.conversions == 0, "restarted after the timeout"
        assert (await pool.to_pdf(source)).startswith(b"%PDF")
    finally:
        await pool.stop()
