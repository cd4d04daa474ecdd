import json
import re
from pathlib import Path

import jsonschema

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
    assert {next(iter(c["messages"])) for c in document["channels"].values()} == {
        e.__name__ for e in EVENTS}
    for channel in document["channels"].values():
        (message,) = channel["messages"]
        assert message in schemas
        exchange = channel["bindings"]["amqp"]["exchange"]
        assert (exchange["name"], exchange["vhost"]) == ("conveyor.events", VHOST)


def test_addresses_declare_their_parameters_and_come_from_the_tags() -> None:
    for channel in build()["channels"].values():
        named = set(re.findall(r"\{(\w+)\}", channel["address"]))
        assert named and named == set(channel["parameters"]), channel["address"]
        (message,) = channel["messages"]
        event_type = next(e for e in EVENTS if e.__name__ == message)
        family, _ = event_tag(event_type).split(".")
        assert channel["address"].startswith(family + ".{")
