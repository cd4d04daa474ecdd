"""What a WebSocket client sends: `{"action", "channels", "filters": {"taskId"}}`."""

import msgspec


class Filters(msgspec.Struct, frozen=True, rename="camel"):
    task_id: str | None = None


class ClientMessage(msgspec.Struct):
    action: str
    channels: list[str] = []
    filters: Filters = Filters()
