import io

import pytest
from PIL import Image

from libs.images import NotAnImage, thumbnail
from libs.workflows import (
    BUILT_IN,
    DOCX_TO_PDF,
    UnknownWorkflow,
    as_capability,
    declared,
    output_name,
    published,
)


def test_an_operator_publishes_built_ins_under_other_names() -> None:
    workflows = published("docx-to-pdf, workflow1=docx-to-pdf", BUILT_IN)
    assert [(w.name, w.implementation) for w in workflows] == [
        ("docx-to-pdf", "docx-to-pdf"), ("workflow1", "docx-to-pdf")]
    with pytest.raises(UnknownWorkflow):
        published("x=nope", BUILT_IN)


def test_declared_workflows_round_trip_and_malformed_ones_are_ignored() -> None:
    capabilities = {"workflows": [*as_capability([DOCX_TO_PDF]), {"name": "bad"},
                                  {"name": "x", "inputs": ["docx"], "output": ".pdf"}]}
    assert declared(capabilities) == {"docx-to-pdf": DOCX_TO_PDF}


def test_output_names() -> None:
    assert output_name("report.final.docx", DOCX_TO_PDF) == "report.final.pdf"
    assert output_name("README", DOCX_TO_PDF) == "README.pdf"
    assert DOCX_TO_PDF.accepts("A.DOCX") and not DOCX_TO_PDF.accepts("a.doc")


def test_thumbnails_fit_the_box_and_refuse_non_images() -> None:
    source = io.BytesIO()
    Image.new("RGBA", (900, 300), (0, 0, 0, 0)).save(source, format="PNG")
    image = Image.open(io.BytesIO(thumbnail(source.getvalue(), 300)))
    assert (image.format, image.size, image.mode) == ("PNG", (300, 100), "RGBA")
    with pytest.raises(NotAnImage):
        thumbnail(b"%PDF-1.7 not an image")
