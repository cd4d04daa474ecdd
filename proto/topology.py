"""Exchange, queue and routing-key names. Services never spell these as literals."""

from enum import StrEnum


class Exchange(StrEnum):
    WORK = "conveyor.work"  # direct: scheduler -> workers, routing key = work queue name
    RESULTS = "conveyor.results"  # direct: workers -> scheduler
    CONTROL = "conveyor.control"  # direct: gateway -> scheduler wake-ups
    EVENTS = "conveyor.events"  # topic: public, see proto/schema/events.asyncapi.json
    REGISTRY = "conveyor.registry"  # direct: heartbeats -> registry
    DLX = "conveyor.dlx"  # direct: dead letters, routing key = origin queue name
    RPC = "conveyor.rpc"  # direct: request/reply calls, routing key = the serving queue
    AUTH = "conveyor.auth"  # fanout, internal: token revocations -> every gateway


class Queue(StrEnum):
    RESULTS = "scheduler.results"
    CONTROL = "scheduler.control"
    HEARTBEATS = "registry.heartbeats"
    SLIDES_BATCH_EVENTS = "slides.batch-events"  # a slides batch started or ended
    KB_SEARCH = "ingester.search"  # SearchChunks -> ChunksFound
    # A copy of every dead-lettered work message: the scheduler settles its task at once
    # (the `<queue>.dlq` queues keep their copy for operators).
    DEAD_WORK = "scheduler.dead-work"


def work_queue(route: str) -> str:
    """Work queue of a worker kind (`echo`) or of one registered server (`server.<name>`)."""
    return f"{route}.items"


def server_route(server: str) -> str:
    """The route of one registered server's own queue: its tasks reach it and nothing else."""
    return f"server.{server}"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


class EventKey:
    """Routing keys on the events exchange: `task.<kind>.<status>` and friends."""

    @staticmethod
    def task(kind: str, status: str) -> str:
        return f"task.{kind}.{status}"

    @staticmethod
    def items(kind: str) -> str:
        return f"item.{kind}.settled"

    @staticmethod
    def instance(service: str, status: str) -> str:
        return f"server.{service}.{status}"

    @staticmethod
    def registered_server(name: str, status: str) -> str:
        return f"servers.{name}.{status}"

    ALL_TASKS = "task.#"
    ALL = "#"
