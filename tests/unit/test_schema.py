import json
import re
from pathlib import Path

import jsonschema

from proto.contracts import KIND_CONTRACTS
from proto.events import EVENTS
from proto.schema import OUTPUT, build, render
from proto.topology import VHOST, event_tag

ASYNCAPI_3 = Path(__file__).parents[1] / "fixtures" / "asyncapi" / "asyncapi-3.0.0.schema.json"


def test_committed_events_schema_is_current() -> None:
    assert OUTPUT.read_text() == render(), "run `make schema` and commit the result"


def test_the_document_is_valid_asyncapi_3() -> None:
    """Against the AsyncAPI 3.0.0 JSON Schema of @asyncapi/specs (vendored, see its README)."""
    validator = jsonschema.Draft7Validator(json.loads(ASYNCAPI_3.read_text()))
    document = json.loads(OUTPUT.read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, "\n".join(errors[:10])


def test_every_event_type_has_a_channel_and_a_schema() -> None:
    document = build()
    schemas = document["components"]["schemas"]
    events = [c for c in document["channels"].values()
              if c["bindings"]["amqp"]["exchange"]["name"] == "conveyor.events"]
    assert {next(iter(c["messages"])) for c in events} == {e.__name__ for e in EVENTS}
    for channel in events:
        (message,) = channel["messages"]
        assert message in schemas
        exchange = channel["bindings"]["amqp"]["exchange"]
        assert (exchange["name"], exchange["vhost"]) == ("conveyor.events", VHOST)


def test_addresses_declare_their_parameters_and_come_from_the_tags() -> None:
    for channel in build()["channels"].values():
        if channel["bindings"]["amqp"]["exchange"]["name"] != "conveyor.events":
            continue  # work queues have fixed addresses
        named = set(re.findall(r"\{(\w+)\}", channel["address"]))
        assert named and named == set(channel["parameters"]), channel["address"]
        (message,) = channel["messages"]
        event_type = next(e for e in EVENTS if e.__name__ == message)
        family, _ = event_tag(event_type).split(".")
        assert channel["address"].startswith(family + ".{")


def test_every_kind_with_a_contract_has_its_work_described() -> None:
    document = build()
    schemas = document["components"]["schemas"]
    work = {c["address"]: c for c in document["channels"].values()
            if c["bindings"]["amqp"]["exchange"]["name"] == "conveyor.work"}
    assert set(work) == {f"{kind}.items" for kind in KIND_CONTRACTS}
    for kind, contract in KIND_CONTRACTS.items():
        messages = set(work[f"{kind}.items"]["messages"])
        assert len(messages) == 2 and messages <= set(schemas)
        process = next(schemas[m] for m in messages if m.endswith("ProcessItems"))
        assert process["properties"]["params"] == {
            "$ref": f"#/components/schemas/{contract.params.__name__}"}
        assert contract.result.__name__ in schemas
