"""The documents kind's contracts between the gateway and docrender: the batch's options and
templates as task params (`DocumentParams`), one (template, row) as an item payload
(`DocumentPayload`), and where its rendered document is stored as the item's result
(`DocumentResult`). Params and results keep the camelCase keys they are stored with."""

from typing import Any, Literal

import msgspec


class TemplateRef(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    name: str
    key: str  # the template file's object key
    renderer: str | None = None  # None: a task from before renderers were chosen at upload
    # "merged" (one PDF conversion for many rows) or "single", judged at upload; None: a task
    # from before that judgement (rendered one by one)
    pdf_mode: str | None = None


class DocumentParams(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    output_format: Literal["docx", "pdf"]
    templates: dict[str, TemplateRef]  # by template id, in the order the batch asked for them
    row_count: int
    mode: Literal["parallel", "sequential"] = "parallel"
    create_zip: bool = True
    data_source_id: str | None = None


class DocumentPosition(msgspec.Struct, frozen=True, kw_only=True):
    """Which document of the batch an item is: its template and its row."""

    template_id: str
    row_index: int


class DocumentPayload(DocumentPosition, frozen=True, kw_only=True):
    row: dict[str, Any]  # the data source row the template is filled with


class DocumentResult(msgspec.Struct, frozen=True, kw_only=True, rename="camel",
                     omit_defaults=True):
    file: str = ""  # its name in the batch ZIP
    template_id: str
    row_index: int
    size: int
    pack: str | None = None  # the pack object holding it (at `offset`), or
    offset: int = 0
    crc: int | None = None
    key: str | None = None  # its own object (documents rendered before packs)

    @property
    def stored_in(self) -> str | None:
        return self.pack or self.key
