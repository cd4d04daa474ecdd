"""The documents a batch's ZIP holds: its own, plus, for a retry-failed batch, the documents its
parent batches rendered (a retry renders only what failed, and its ZIP must still be the whole
batch). One entry per (template, row) position; the latest batch's outcome wins."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.tasks import readers
from libs.tasks.model import Item, Task
from proto.documents import DocumentParams, DocumentPosition, DocumentResult

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
    result: DocumentResult | None = None  # where the document is stored, when done

    @property
    def stored_in(self) -> str | None:
        """The object holding the document: its pack, or its own object."""
        return self.result.stored_in if self.result is not None else None


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
                positions = await _positions(conn, task.id, page)
            yield [_entry(task.id, item, position) for item in page
                   if (position := _position(item, positions, original=True)) is not None]
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
        items = await _items(conn, task.id)
        where = await _positions(conn, task.id, items)
        for item in items:
            position = _position(item, where, original=depth == 0)
            if position is not None:
                positions[position] = _entry(task.id, item, position)
    order = _template_order(chain)
    return [positions[p] for p in sorted(
        positions, key=lambda p: (order.get(p[0], len(order)), p[1]))]


_POSITION_FIELDS = DocumentPosition.__struct_fields__


def _result(item: Item) -> DocumentResult | None:
    if item.status != "done" or not item.result:
        return None
    return msgspec.convert(item.result, DocumentResult)


async def _positions(conn: AsyncConnection, task_id: str,
                     items: list[Item]) -> dict[int, DocumentPosition]:
    """Where the items without a result sit in the batch, read from their payloads."""
    fields = await readers.payload_fields(
        conn, task_id, [item.seq for item in items if _result(item) is None], _POSITION_FIELDS)
    return {seq: msgspec.convert(value, DocumentPosition) for seq, value in fields.items()}


def _position(item: Item, positions: dict[int, DocumentPosition], *,
              original: bool) -> tuple[str, int] | None:
    if (result := _result(item)) is not None:
        return result.template_id, result.row_index
    if not original and item.status != "failed":
        return None  # a retry's cancelled items keep the parent's outcome
    where = positions.get(item.seq)
    return (where.template_id, where.row_index) if where else None


def _entry(task_id: str, item: Item, position: tuple[str, int]) -> Entry:
    return Entry(template_id=position[0], row_index=position[1], status=item.status.value,
                 task_id=task_id, seq=item.seq, error=item.error, result=_result(item))


def _template_order(chain: list[Task]) -> dict[str, int]:
    """Templates in the order the batch asked for them."""
    templates = msgspec.convert(chain[-1].params, DocumentParams).templates if chain else {}
    return {template_id: index for index, template_id in enumerate(templates)}


async def _items(conn: AsyncConnection, task_id: str) -> list[Item]:
    items: list[Item] = []
    while True:
        page = await readers.get_items(conn, task_id, offset=len(items), limit=PAGE)
        items += page
        if len(page) < PAGE:
            return items
