"""Exchange, queue and routing-key names. Services never spell these as literals; event
routing keys are derived from the events' msgspec tags (proto/events.py)."""

from enum import StrEnum
from typing import Any

from proto.events import TASK_EVENTS, Event

VHOST = "conveyor"  # the RabbitMQ virtual host of a deployment (the AMQP URL's path)


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


WORK_QUEUE_SUFFIX = ".items"


def work_queue(route: str) -> str:
    """Work queue of a worker kind (`echo`) or of one registered server (`server.<name>`)."""
    return f"{route}{WORK_QUEUE_SUFFIX}"


def server_route(server: str) -> str:
    """The route of one registered server's own queue: its tasks reach it and nothing else."""
    return f"server.{server}"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def event_tag(event_type: type[Any]) -> str:
    """An event's name on the wire (its `type` field): `<family>.<event>`."""
    tag = event_type.__struct_config__.tag
    assert isinstance(tag, str), event_type
    return tag


def event_family(event_type: type[Any]) -> str:
    return event_tag(event_type).split(".")[0]


def event_key_pattern(event_type: type[Any]) -> str:
    """The routing key with its variable parts named: `task.{kind}.created`,
    `instance.{service}.{status}` (the form the AsyncAPI channels use as their address)."""
    family, name = event_tag(event_type).split(".")
    last = f"{{{event_type.LAST}}}" if event_type.LAST else name
    return f"{family}.{{{event_type.SUBJECT}}}.{last}"


def event_key(event: Event) -> str:
    """The routing key an event is published with, e.g. `task.documents.completed`."""
    family, name = event_tag(type(event)).split(".")
    last = getattr(event, event.LAST) if event.LAST else name
    return f"{family}.{getattr(event, event.SUBJECT)}.{last}"


def event_binding(event_type: type[Any], subject: str = "*") -> str:
    """A binding for events of `event_type` (of one subject, e.g. one kind, or all)."""
    family, name = event_tag(event_type).split(".")
    return f"{family}.{subject}.{'*' if event_type.LAST else name}"


def family_binding(event_type: type[Any]) -> str:
    """Every event of the family `event_type` belongs to: `task.#`."""
    return f"{event_family(event_type)}.#"


# What a subscriber to every task and item event binds (the gateway's live streams).
TASK_EVENT_BINDINGS = tuple(sorted({family_binding(t) for t in TASK_EVENTS}))
ALL_EVENTS = "#"
