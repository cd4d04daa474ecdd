from proto.schema import OUTPUT, build, render


def test_committed_events_schema_is_current() -> None:
    assert OUTPUT.read_text() == render(), "run `make schema` and commit the result"


def test_every_event_type_has_a_channel_and_a_schema() -> None:
    document = build()
    schemas = document["components"]["schemas"]
    for channel in document["channels"].values():
        (message,) = channel["messages"]
        assert message in schemas
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "conveyor.events"
