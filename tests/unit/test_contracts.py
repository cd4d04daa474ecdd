"""Kind contracts: what a worker's handler receives is its kind's struct, and what breaks the
contract is refused with a reason."""

import msgspec
import pytest

from proto.contracts import KIND_CONTRACTS, ContractViolation, decode
from proto.documents import DocumentParams, DocumentPayload, DocumentResult, TemplateRef


def test_documents_decode_from_what_the_gateway_stores() -> None:
    stored = msgspec.to_builtins(DocumentParams(
        output_format="pdf", row_count=2, create_zip=True,
        templates={"t1": TemplateRef(name="合同", key="templates/t1.docx", pdf_mode="merged")}))
    assert stored["outputFormat"] == "pdf" and stored["templates"]["t1"]["pdfMode"] == "merged"
    params = decode("documents", "params", stored)
    assert isinstance(params, DocumentParams) and params.templates["t1"].key == "templates/t1.docx"
    payload = decode("documents", "payload", {"template_id": "t1", "row_index": 1, "row": {}})
    assert payload == DocumentPayload(template_id="t1", row_index=1, row={})


def test_params_of_tasks_from_before_the_contract_still_decode() -> None:
    old = {"outputFormat": "docx", "mode": "parallel", "createZip": True, "rowCount": 3,
           "templates": {"t1": {"name": "x", "key": "k"}}}
    params = decode("documents", "params", old)
    assert params.templates["t1"].renderer is None and params.templates["t1"].pdf_mode is None
    result = msgspec.convert({"key": "k", "size": 10, "templateId": "t1", "rowIndex": 2},
                             DocumentResult)
    assert result.stored_in == "k" and result.pack is None


def test_a_payload_that_breaks_the_contract_is_refused_with_the_reason() -> None:
    with pytest.raises(ContractViolation, match="row_index"):
        decode("documents", "payload", {"template_id": "t1", "row": {}})
    with pytest.raises(ContractViolation, match="sleep_ms"):
        decode("echo", "payload", {"sleep_ms": "soon"})


def test_a_kind_without_a_contract_passes_its_dicts_through() -> None:
    assert "server_batch" not in KIND_CONTRACTS
    raw = {"workflow": {"name": "docx-to-pdf"}}
    assert decode("server_batch", "params", raw) is raw
