"""The registry's SQL: the `instances` table is its own."""

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from proto.registry import Heartbeat

_json = msgspec.json.Encoder()


class InstanceChange(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    service: str
    name: str
    status: str
    capabilities: dict[str, Any]


async def record_heartbeat(conn: AsyncConnection, beat: Heartbeat) -> InstanceChange | None:
    """Upsert the instance; return a change when its status flipped (or it is new)."""
    status = "offline" if beat.stopping else "online"
    row = (
        await conn.execute(
            text(
                """WITH previous AS (SELECT status FROM instances WHERE id = :id)
                INSERT INTO instances (id, service, name, host, pid, status, capabilities,
                    interval_s, started_at, last_seen)
                VALUES (:id, :service, :name, :host, :pid, :status, CAST(:caps AS jsonb),
                    :interval_s, :started_at, now())
                ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,
                    capabilities = EXCLUDED.capabilities, interval_s = EXCLUDED.interval_s,
                    last_seen = now()
                RETURNING (SELECT status FROM previous) AS previous"""
            ),
            {
                "id": beat.instance_id, "service": beat.service, "name": beat.name,
                "host": beat.host, "pid": beat.pid, "status": status,
                "caps": _json.encode(beat.capabilities).decode(),
                "interval_s": beat.interval_s, "started_at": beat.started_at,
            },
        )
    ).one()
    if row.previous == status:
        return None
    return InstanceChange(instance_id=beat.instance_id, service=beat.service, name=beat.name,
                          status=status, capabilities=beat.capabilities)


async def mark_silent_offline(conn: AsyncConnection, missed_beats: int) -> list[InstanceChange]:
    rows = await conn.execute(
        text(
            """UPDATE instances SET status = 'offline'
            WHERE status = 'online'
              AND last_seen < now() - :missed * interval_s * interval '1 second'
            RETURNING id, service, name, capabilities"""
        ),
        {"missed": missed_beats},
    )
    return [
        InstanceChange(instance_id=row.id, service=row.service, name=row.name,
                       status="offline", capabilities=row.capabilities)
        for row in rows
    ]


async def forget_stale(conn: AsyncConnection, older_than_s: int) -> None:
    """Offline instances nobody has heard of for a long time are history, not state."""
    await conn.execute(
        text(
            """DELETE FROM instances WHERE status = 'offline'
            AND last_seen < now() - :age * interval '1 second'"""
        ),
        {"age": older_than_s},
    )
