"""Waiting for a batch to end, for the generate route: woken by the batch's own events through
the gateway's EventHub, with a database re-check every few seconds in case an event was lost
(events are notifications; the database is the truth)."""

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.tasks.model import Task
from services.gateway.auth.repository import Principal
from services.gateway.stream.hub import EventHub, Subscriber
from services.gateway.stream.wire import TERMINAL_TYPES
from services.gateway.tasks.commands import TaskCommands

RECHECK_S = 2.0  # seed 001's status interval


async def _next_terminal(subscriber: Subscriber) -> None:
    while (await subscriber.queue.get())["type"] not in TERMINAL_TYPES:
        pass


async def wait_finished(hub: EventHub, db: AsyncEngine, commands: TaskCommands,
                        principal: Principal, task_id: str, timeout_s: float) -> Task:
    """The task once finished, or as it stands when `timeout_s` runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    subscriber = Subscriber(principal)
    subscriber.task_ids.add(task_id)
    hub.add(subscriber)  # before the first read: an end between the two is not missed
    try:
        while True:
            async with db.connect() as conn:
                task = await commands.load(conn, principal, task_id)
            remaining = deadline - loop.time()
            if task.status.finished or remaining <= 0:
                return task
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_next_terminal(subscriber), min(RECHECK_S, remaining))
    finally:
        hub.remove(subscriber)
