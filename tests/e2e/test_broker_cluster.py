"""Conveyor on a three-node RabbitMQ cluster (scripts/rabbitmq_nodes.py): the node that holds
the leader of a running task's work queue stops mid-task, comes back, then the node of the new
leader stops. The task completes with every item exactly once, and no service restarts: each
moves its connection to a live node by itself.

A quorum queue needs a majority of its replicas: with three nodes, one may be down at a time,
so the first node is back before the second stops."""

from __future__ import annotations

import asyncio
import random
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from libs.db.engine import create_engine
from proto.topology import work_queue
from tests.e2e.conftest import FAST, Api
from tests.harness import Cluster, create_user
from tests.harness.infra import ROOT, create_database, drop_database, migrate, port_open

sys.path.insert(0, str(ROOT / "scripts"))
import rabbitmq_nodes as nodes

VHOST = "conveyor"
ITEMS = 800
SLEEP_MS = 150  # 800 x 150 ms over 8 slots: 15 s at least, so both stops fall mid-task


def _free_block(count: int) -> int:
    """A first port such that `count` AMQP ports and their distribution ports are free."""
    for _ in range(50):
        first = random.randrange(21000, 39000)
        ports = [p for i in range(count) for p in (first + i, first + 20000 + i)]
        if not any(port_open("127.0.0.1", p) for p in ports):
            return first
    raise RuntimeError("no free block of ports for the broker nodes")


class BrokerStack:
    def __init__(self, cluster: Cluster, members: list[nodes.Node], database_url: str) -> None:
        self.cluster = cluster
        self.members = members
        self.database_url = database_url

    def node(self, name: str) -> nodes.Node:
        return next(n for n in self.members if n.name == name)

    async def leader_of(self, queue: str, ask: nodes.Node) -> nodes.Node:
        return self.node(await asyncio.to_thread(nodes.queue_leader, ask, VHOST, queue))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def broker_stack(env: dict[str, str], run_id: str,
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BrokerStack]:
    base = tmp_path_factory.mktemp("rabbitmq")
    members = await asyncio.to_thread(nodes.start, Path(base), 3, _free_block(3), VHOST)
    db_name = f"conveyor_test_{run_id}_brokers"
    database_url = await create_database(db_name)
    cluster: Cluster | None = None
    try:
        await migrate(database_url)
        cluster = Cluster({**env, **FAST, "CONVEYOR_DATABASE_URL": database_url,
                           "CONVEYOR_AMQP_URL": nodes.urls(members, VHOST)},
                          tmp_path_factory.mktemp("broker-cluster"))
        for name in ("registry", "scheduler", "echo"):
            await cluster.wait_for_log(await cluster.start(name), "ready")
        await cluster.start("gateway")
        yield BrokerStack(cluster, members, database_url)
    finally:
        if cluster is not None:
            await cluster.stop_all()
        await asyncio.to_thread(nodes.stop, Path(base))
        await drop_database(db_name)


async def _items_done_once(database_url: str, task_id: str) -> tuple[object, ...]:
    db = create_engine(database_url, pool_size=1)
    try:
        async with db.connect() as conn:
            row = (await conn.execute(text(
                """SELECT t.status, t.done, t.failed, t.inflight,
                    (SELECT count(*) FROM task_items i WHERE i.task_id = t.id
                     AND i.status = 'done') AS items_done
                FROM tasks t WHERE t.id = :id"""), {"id": task_id})).one()
    finally:
        await db.dispose()
    return (row.status, row.done, row.items_done, row.failed, row.inflight)


async def test_losing_queue_leaders_nodes_loses_no_item(broker_stack: BrokerStack) -> None:
    stack = broker_stack
    token = await create_user(stack.cluster.env, f"brokers-{secrets.token_hex(3)}", "bo")
    api = Api(stack.cluster.gateway.url, token)
    pids = {h.name: h.pid for h in stack.cluster.handles}
    task = await api.create_echo([{"value": i, "sleep_ms": SLEEP_MS} for i in range(ITEMS)],
                                 concurrency=8)
    task_id = task["taskId"]
    queue = work_queue("echo")

    await api.wait_until(task_id, lambda t: t["completedItems"] >= 60, timeout_s=60)
    first = await stack.leader_of(queue, stack.members[0])
    await asyncio.to_thread(nodes.stop_node, first)
    survivor = next(n for n in stack.members if n != first)
    done_at_stop = (await api.task(task_id))["completedItems"]
    # Work goes on without the node: a new leader, every service on a live node.
    await api.wait_until(task_id, lambda t: t["completedItems"] >= done_at_stop + 60
                         or t["status"] == "completed", timeout_s=90)
    await asyncio.to_thread(nodes.start_node, first)

    assert (await api.task(task_id))["status"] == "running", "finished before the second stop"
    second = await stack.leader_of(queue, survivor)
    await asyncio.to_thread(nodes.stop_node, second)
    try:
        final = await api.wait_finished(task_id, timeout_s=180)
    finally:
        await asyncio.to_thread(nodes.start_node, second)

    assert final["status"] == "completed", final
    assert await _items_done_once(stack.database_url, task_id) == (
        "completed", ITEMS, ITEMS, 0, 0)
    for handle in stack.cluster.handles:  # nobody restarted: the same processes, all alive
        assert handle.running(), handle.tail()
        assert pids[handle.name] == handle.pid
