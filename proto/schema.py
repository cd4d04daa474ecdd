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

from proto.contracts import KIND_CONTRACTS, KindContract
from proto.events import EVENTS
from proto.topology import VHOST, Exchange, event_key_pattern, work_queue
from proto.work import FinalizeTask, ProcessItems, WorkItem

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


def _camel(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_"))


def _typed(base: type[msgspec.Struct], name: str, narrowed: dict[str, Any],
           doc: str) -> type[msgspec.Struct]:
    """`base` with some fields' types narrowed to a kind's contract (for the schema only)."""
    fields: list[Any] = []
    for f in msgspec.structs.fields(base):
        kind = narrowed.get(f.name, f.type)
        if f.required or f.name in narrowed:
            fields.append((f.name, kind))
        elif f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, kind, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, kind, f.default))
    typed = msgspec.defstruct(name, fields, kw_only=True, frozen=True,
                              tag=base.__struct_config__.tag, module=__name__)
    typed.__doc__ = doc
    return typed


def work_messages(kind: str, contract: KindContract) -> list[type[msgspec.Struct]]:
    """The work messages of one kind, as its workers receive them."""
    prefix = _camel(kind)
    item = _typed(WorkItem, f"{prefix}WorkItem", {"payload": contract.payload},
                  f"One {kind} item: its position, attempt and payload.")
    process = _typed(ProcessItems, f"{prefix}ProcessItems",
                     {"params": contract.params, "items": list[item]},  # type: ignore[valid-type]
                     f"Process these items of one {kind} task.")
    finalize = _typed(FinalizeTask, f"{prefix}FinalizeTask", {"params": contract.params},
                      f"Every item of a {kind} task settled: do the kind's last step.")
    return [process, finalize]


def _work(channels: dict[str, Any], operations: dict[str, Any],
          messages: dict[str, Any]) -> list[type[Any]]:
    """Channels of the work exchange, one per kind with a contract; its item results'
    schemas too (they travel inside ItemsReported)."""
    types: list[type[Any]] = []
    for kind, contract in sorted(KIND_CONTRACTS.items()):
        kind_messages = work_messages(kind, contract)
        types += [*kind_messages, contract.result]
        for message in kind_messages:
            name = message.__name__
            messages[name] = {
                "name": name, "contentType": "application/json",
                "payload": {"$ref": f"#/components/schemas/{name}"},
                "headers": {"type": "object", "properties": {
                    "x-type": {"type": "string", "const": name.removeprefix(_camel(kind))},
                    "x-task-id": {"type": "string"},
                }},
            }
        channel_id = f"work_{kind}"
        channels[channel_id] = {
            "address": work_queue(kind),
            "description": f"Work of the `{kind}` kind for its workers; an item's result is "
                           f"a `{contract.result.__name__}`.",
            "messages": {m.__name__: {"$ref": f"#/components/messages/{m.__name__}"}
                         for m in kind_messages},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": Exchange.WORK.value, "type": "direct", "durable": True, "vhost": VHOST,
            }}},
        }
        operations[f"receiveWork{_camel(kind)}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    return types


def build() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    work_types = _work(channels, operations, messages)
    _, components = msgspec.json.schema_components(
        [*EVENTS, *work_types], ref_template="#/components/schemas/{name}"
    )
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
