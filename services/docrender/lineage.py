"""The documents a batch's ZIP holds: its own, plus, for a retry-failed batch, the documents its
parent batches rendered (a retry renders only what failed, and its ZIP must still be the whole
batch). One entry per (template, row) position; the latest batch's outcome wins."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.tasks import readers
from libs.tasks.model import Item, Task

PAGE = 1000
MAX_GENERATIONS = 20  # retries of retries: a bound, not an expectation


@dataclass(frozen=True, slots=True)
class Entry:
    template_id: str
    row_index: int
    status: str
    task_id: str
    seq: int
    error: str | None = None
    result: dict[str, Any] | None = None  # where the document is stored, when done

    @property
    def stored_in(self) -> str | None:
        """The object holding the document: its pack, or its own object."""
        if self.result is None:
            return None
        return str(self.result.get("pack") or self.result.get("key") or "") or None


async def batch_pages(db: AsyncEngine, task_id: str, tenant_id: str
                      ) -> AsyncIterator[list[Entry]]:
    """Entries a page at a time. A batch without parents (the usual case, and the only one
    that can be 100,000 rows) streams its items in seq order, which is (template, row) order,
    so memory stays flat; a retry chain is merged in memory, in (template order, row) order."""
    async with db.connect() as conn:
        chain = await _chain(conn, task_id, tenant_id)
    if len(chain) > 1:
        async with db.connect() as conn:
            entries = await _merged(conn, chain)
        for start in range(0, len(entries), PAGE):
            yield entries[start: start + PAGE]
        return
    for task in chain:  # zero or one
        offset = 0
        while True:
            async with db.connect() as conn:
                page = await readers.get_items(conn, task.id, offset=offset, limit=PAGE)
            yield [_entry(task.id, item, position) for item in page
                   if (position := _position(task, item, {}, original=True)) is not None]
            offset += len(page)
            if len(page) < PAGE:
                break


async def _chain(conn: AsyncConnection, task_id: str, tenant_id: str) -> list[Task]:
    """The batch, then its parent, its parent's parent..."""
    chain: list[Task] = []
    next_id: str | None = task_id
    while next_id is not None and len(chain) < MAX_GENERATIONS:
        task = await readers.get_task(conn, next_id, tenant_id=tenant_id)
        if task is None:  # an ancestor removed by retention: its documents went with it
            break
        chain.append(task)
        next_id = task.parent_task_id
    return chain


async def _merged(conn: AsyncConnection, chain: list[Task]) -> list[Entry]:
    positions: dict[tuple[str, int], Entry] = {}
    for depth, task in enumerate(reversed(chain)):  # the original batch first
        failed_rows = {} if depth == 0 else {
            item.seq: item.payload or {} for item in await readers.get_items(
                conn, task.id, statuses=("failed",), with_payload=True)}
        for item in await _items(conn, task.id):
            position = _position(task, item, failed_rows, original=depth == 0)
            if position is not None:
                positions[position] = _entry(task.id, item, position)
    return [positions[p] for p in sorted(positions, key=lambda p: (_order(chain, p[0]), p[1]))]


def _position(task: Task, item: Item, failed_rows: dict[int, dict[str, Any]], *,
              original: bool) -> tuple[str, int] | None:
    if item.status == "done" and item.result:
        return str(item.result["templateId"]), int(item.result["rowIndex"])
    if original:  # the original's items were created template by template, row by row, from
        # row `rowOffset` of the source
        row_count = max(int(task.params.get("rowCount", 1)), 1)
        return item.group_key or "", item.seq % row_count + int(task.params.get("rowOffset", 0))
    row = failed_rows.get(item.seq)  # a retry's failure; cancelled ones keep the parent's
    return (str(row["template_id"]), int(row["row_index"])) if row else None


def _entry(task_id: str, item: Item, position: tuple[str, int]) -> Entry:
    done = item.status == "done" and bool(item.result)
    return Entry(template_id=position[0], row_index=position[1], status=item.status.value,
                 task_id=task_id, seq=item.seq, error=item.error,
                 result=item.result if done else None)


def _order(chain: list[Task], template_id: str) -> int:
    templates = list(chain[-1].params.get("templates", {})) if chain else []
    return templates.index(template_id) if template_id in templates else len(templates)


async def _items(conn: AsyncConnection, task_id: str) -> list[Item]:
    items: list[Item] = []
    while True:
        page = await readers.get_items(conn, task_id, offset=len(items), limit=PAGE)
        items += page
        if len(page) < PAGE:
            return items
