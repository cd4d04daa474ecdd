"""`python -m proto.schema` writes proto/schema/events.asyncapi.json: the published interface of
the events exchange for systems that consume Conveyor's events over AMQP. Channels, addresses
and descriptions come from the event contracts themselves (proto/events.py). A test fails when
the committed file differs from what the contracts generate, or is not valid AsyncAPI 3."""

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import msgspec

from proto.events import EVENTS
from proto.topology import VHOST, Exchange, event_key_pattern

OUTPUT = Path(__file__).with_name("schema") / "events.asyncapi.json"

PARAMETERS = {
    "kind": "The task's kind: echo, documents, slides, kb_sync, server_batch, codegen.",
    "service": "The service the instance belongs to: gateway, scheduler, registry, a worker.",
    "name": "The registered batch server's name.",
    "status": "The new status: online or offline (instances); online, offline or error "
              "(registered servers).",
}


def _description(event_type: type[Any]) -> str:
    return " ".join((inspect.getdoc(event_type) or event_type.__name__).split())


def build() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        EVENTS, ref_template="#/components/schemas/{name}"
    )
    channels = {}
    operations = {}
    messages = {}
    for event_type in EVENTS:
        name = event_type.__name__
        address = event_key_pattern(event_type)
        messages[name] = {
            "name": name,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "headers": {"type": "object", "properties": {
                "x-type": {"type": "string", "const": name},
                "x-task-id": {"type": "string"},
            }},
        }
        channel_id = address.replace(".", "_").replace("{", "").replace("}", "")
        channels[channel_id] = {
            "address": address,
            "description": _description(event_type),
            "parameters": {param: {"description": PARAMETERS[param]}
                           for param in re.findall(r"\{(\w+)\}", address)},
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": Exchange.EVENTS.value, "type": "topic", "durable": True, "vhost": VHOST,
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
            "version": "2.0.0",
            "description": (
                "Everything that happens to tasks, service instances and registered batch "
                f"servers, published to the `{Exchange.EVENTS.value}` topic exchange of the "
                f"`{VHOST}` virtual host as persistent JSON messages. Bind a queue of your own "
                "(e.g. `task.#`, `task.documents.*`, `items.#`, `server.#`). A routing key is "
                "the event's `type` with its subject inserted: `task.<kind>.<event>`, "
                "`items.<kind>.settled`, `instance.<service>.<status>`, "
                "`server.<name>.<status>`. Fields are only ever added, with defaults; `type` "
                "tells the event apart."
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
