"""One JSON codec for every message on the wire."""

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def encode(message: msgspec.Struct) -> bytes:
    return _encoder.encode(message)


class Decoder:
    """Typed decoder for one contract (or a tagged union of contracts)."""

    def __init__(self, contract: Any) -> None:
        self._decoder = msgspec.json.Decoder(contract)

    def decode(self, body: bytes) -> Any:
        return self._decoder.decode(body)
