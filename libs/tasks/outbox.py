"""The outbox table's SQL: what a task transaction writes (in its own commit) and what a relay
takes, publishes and deletes.

A relay takes a task's rows only while it holds that task's advisory lock (for the rest of its
transaction), and in `id` order: two relays never publish the same task's messages at once, so
a task's events keep their order. Rows of no task are keyed by their own id."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.messaging.publisher import Envelope
from libs.tasks.settlement import jsonb
from proto.topology import Exchange

# The first key of the relays' advisory locks (the second is the task's hash).
_LOCK_SPACE = 0x0B0C
# A row the broker refused this many times (unroutable) is dropped: an event is then lost, work
# is left to its item's lease. Rows that could not be sent at all (the broker away) wait.
MAX_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    envelope: Envelope
    attempts: int


async def write(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """One statement for a transaction's messages, in the order they were decided."""
    if not envelopes:
        return
    await conn.execute(
        text(
            """INSERT INTO outbox (task_id, exchange, routing_key, message_type, body, headers,
                persistent, mandatory, correlation_id, expiration_s)
            SELECT t, e, k, m, b, h, p, man, c, x
            FROM unnest(CAST(:task_ids AS uuid[]), CAST(:exchanges AS text[]),
                CAST(:keys AS text[]), CAST(:types AS text[]), CAST(:bodies AS bytea[]),
                CAST(:headers AS jsonb[]), CAST(:persistent AS boolean[]),
                CAST(:mandatory AS boolean[]), CAST(:correlations AS text[]),
                CAST(:expirations AS float8[]))
                WITH ORDINALITY AS u(t, e, k, m, b, h, p, man, c, x, n)
            ORDER BY n"""
        ),
        {
            "task_ids": [e.task_id for e in envelopes],
            "exchanges": [e.exchange.value for e in envelopes],
            "keys": [e.routing_key for e in envelopes],
            "types": [e.message_type for e in envelopes],
            "bodies": [e.body for e in envelopes],
            "headers": [jsonb(e.headers) for e in envelopes],
            "persistent": [e.persistent for e in envelopes],
            "mandatory": [e.mandatory for e in envelopes],
            "correlations": [e.correlation_id for e in envelopes],
            "expirations": [e.expiration_s for e in envelopes],
        },
    )


async def take(conn: AsyncConnection, limit: int) -> list[Pending]:
    """The oldest rows no other relay holds, locked until this transaction ends."""
    rows = await conn.execute(
        text(
            f"""SELECT id, task_id, exchange, routing_key, message_type, body, headers,
                persistent, mandatory, correlation_id, expiration_s, attempts
            FROM outbox
            WHERE pg_try_advisory_xact_lock({_LOCK_SPACE},
                hashtext(coalesce(task_id::text, id::text)))
            ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"""
        ),
        {"limit": limit},
    )
    return [
        Pending(
            id=row.id,
            envelope=Envelope(
                exchange=Exchange(row.exchange), routing_key=row.routing_key,
                message_type=row.message_type, body=bytes(row.body), headers=dict(row.headers),
                task_id=str(row.task_id) if row.task_id else None, persistent=row.persistent,
                mandatory=row.mandatory, correlation_id=row.correlation_id,
                expiration_s=row.expiration_s,
            ),
            attempts=row.attempts,
        )
        for row in rows
    ]


async def settle(conn: AsyncConnection, published: Sequence[int],
                 refused: Sequence[Pending]) -> list[Pending]:
    """Delete what the broker confirmed; count a refusal on `refused`, and drop (and return)
    those refused `MAX_ATTEMPTS` times."""
    dropped = [p for p in refused if p.attempts + 1 >= MAX_ATTEMPTS]
    gone = [*published, *(p.id for p in dropped)]
    if gone:
        await conn.execute(text("DELETE FROM outbox WHERE id = ANY(CAST(:ids AS bigint[]))"),
                           {"ids": gone})
    if retried := [p.id for p in refused if p.attempts + 1 < MAX_ATTEMPTS]:
        await conn.execute(
            text("""UPDATE outbox SET attempts = attempts + 1
                WHERE id = ANY(CAST(:ids AS bigint[]))"""),
            {"ids": retried},
        )
    return dropped
