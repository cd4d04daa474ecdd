"""Each kind's contract with its workers, in one place: the types of its task params, of an
item's payload and of an item's result. The worker runtime decodes a work message's params and
payloads into them before a handler sees them (a message that does not match is refused as
permanent), and the AsyncAPI document (proto/schema.py) describes every kind's work from here.
A kind's contract is one entry of `KIND_CONTRACTS`."""

from typing import Any

import msgspec

from proto.codegen import CodegenParams, CodegenPayload, CodegenResult
from proto.documents import DocumentParams, DocumentPayload, DocumentResult
from proto.echo import EchoParams, EchoPayload, EchoResult
from proto.kb import KbSyncParams, KbSyncPayload, KbSyncResult
from proto.slides import SlideBatchParams, SlidePayload, SlideResult


class KindContract(msgspec.Struct, frozen=True):
    params: type[Any]
    payload: type[Any]
    result: type[Any]


KIND_CONTRACTS: dict[str, KindContract] = {
    "codegen": KindContract(CodegenParams, CodegenPayload, CodegenResult),
    "documents": KindContract(DocumentParams, DocumentPayload, DocumentResult),
    "echo": KindContract(EchoParams, EchoPayload, EchoResult),
    "kb_sync": KindContract(KbSyncParams, KbSyncPayload, KbSyncResult),
    "slides": KindContract(SlideBatchParams, SlidePayload, SlideResult),
}


class ContractViolation(ValueError):
    """A work message whose params or payload do not match its kind's contract."""


def decode(kind: str, part: str, value: Any) -> Any:
    """`value` (the params or a payload, as JSON decoded it) as the kind's struct; unchanged
    for a kind without a contract."""
    contract = KIND_CONTRACTS.get(kind)
    if contract is None:
        return value
    try:
        return msgspec.convert(value, getattr(contract, part), strict=False)
    except msgspec.ValidationError as exc:
        raise ContractViolation(f"{kind} {part}: {exc}") from exc
