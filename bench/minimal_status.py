"""The serving benchmark's baseline: a minimal Litestar app answering a task's status with the
same SQL as the gateway (`libs/tasks/readers.get_task_with_stages`: the task row scoped by
tenant, with its stages) over a plain asyncpg pool, and no authentication, envelope or
presenter. What a status read costs at the least.

    CONVEYOR_DATABASE_URL=... PORT=... [WORKERS=n] python -m bench.minimal_status"""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import uvicorn
from litestar import Litestar, get

from libs.tasks.readers import STATUS_SQL

pool: asyncpg.Pool | None = None


async def open_pool() -> None:
    global pool
    url = os.environ["CONVEYOR_DATABASE_URL"].replace("postgresql+asyncpg", "postgresql")
    pool = await asyncpg.create_pool(url, min_size=2, max_size=10)


@get("/status/{tenant:str}/{task_id:uuid}")
async def status(tenant: str, task_id: Any) -> dict[str, Any]:
    assert pool is not None
    async with pool.acquire() as conn:
        task = await conn.fetchrow(STATUS_SQL, task_id, tenant, None)
    return {"code": 200, "data": dict(task)}


app = Litestar([status], on_startup=[open_pool], debug=False, logging_config=None)

if __name__ == "__main__":
    # WORKERS > 1: that many processes on the port, as the gateway's CONVEYOR_GATEWAY_WORKERS.
    workers = int(os.environ.get("WORKERS", "1"))
    uvicorn.run(app if workers == 1 else "bench.minimal_status:app", workers=workers,
                host="127.0.0.1", port=int(os.environ["PORT"]), loop="uvloop",
                http="httptools", log_config=None, access_log=False)
