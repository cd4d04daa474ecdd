"""`python -m proto.schema` writes proto/schema/events.asyncapi.json: the published interface of
the events exchange for systems that consume Conveyor's events over AMQP. A test fails when the
committed file differs from what the contracts generate."""

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from proto.events import (
    InstanceStatusChanged,
    ItemsSettled,
    ServerStatusChanged,
    TaskCancelled,
    TaskCompleted,
    TaskCreated,
    TaskFailed,
    TaskPaused,
    TaskProgressed,
    TaskResumed,
    TaskStarted,
)
from proto.topology import Exchange

OUTPUT = Path(__file__).with_name("schema") / "events.asyncapi.json"

# (routing key pattern, contract, what it means)
CHANNELS: list[tuple[str, Any, str]] = [
    ("task.{kind}.created", TaskCreated, "A task was accepted."),
    ("task.{kind}.started", TaskStarted, "A task started running."),
    ("task.{kind}.progress", TaskProgressed, "Progress of a running task (throttled)."),
    ("task.{kind}.paused", TaskPaused, "A task was paused; in-flight items still finish."),
    ("task.{kind}.resumed", TaskResumed, "A paused task runs again."),
    ("task.{kind}.completed", TaskCompleted,
     "A task finished: snapshot.status is completed or partial_success."),
    ("task.{kind}.failed", TaskFailed, "A task failed: all items, a fatal item or a timeout."),
    ("task.{kind}.cancelled", TaskCancelled, "A task was cancelled."),
    ("item.{kind}.settled", ItemsSettled, "Items that reached done or failed, batched per task."),
    ("server.{service}.{status}", InstanceStatusChanged,
     "A service instance came online or went offline."),
    ("servers.{name}.{status}", ServerStatusChanged,
     "A registered batch server changed status (online, offline, error)."),
]


def build() -> dict[str, Any]:
    contracts = [contract for _, contract, _ in CHANNELS]
    _, components = msgspec.json.schema_components(
        contracts, ref_template="#/components/schemas/{name}"
    )
    channels = {}
    operations = {}
    messages = {}
    for key, contract, description in CHANNELS:
        name = contract.__name__
        messages[name] = {
            "name": name,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "headers": {"type": "object", "properties": {
                "x-type": {"type": "string", "const": name},
                "x-task-id": {"type": "string"},
            }},
        }
        channel_id = key.replace(".", "_").replace("{", "").replace("}", "")
        channels[channel_id] = {
            "address": key,
            "description": description,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": Exchange.EVENTS.value, "type": "topic", "durable": True, "vhost": "/",
            }}},
        }
        operations[f"receive{name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Conveyor events",
            "version": "1.0.0",
            "description": (
                "Everything that happens to tasks and service instances, published to the "
                f"`{Exchange.EVENTS.value}` topic exchange as persistent JSON messages. Bind a "
                "queue of your own (e.g. `task.#`, `task.documents.*`, `item.#`). Fields are only "
                "ever added, with defaults; `type` tells the event apart."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": components},
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render())
    sys.stdout.write(f"wrote {OUTPUT}\n")


if __name__ == "__main__":
    main()
