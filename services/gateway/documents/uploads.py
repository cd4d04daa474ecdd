"""Checking and reading uploads: DOCX templates and CSV/XLSX/JSON data sources. Everything
here is CPU-bound and runs in the gateway's sandbox processes (libs.sandbox: memory, CPU and
time limits), never in the gateway itself; archives are checked before anything parses them."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError

from libs.archives import UnsafeArchive, inspect_zip
from libs.docxfast.choice import RendererChoice, choose_renderer
from libs.docxfast.merge_safety import PdfModeChoice, choose_pdf_mode
from libs.inputs import InputRejected, check_json, text_problem
from libs.tasks.kinds import DOCUMENTS
from libs.templating import template_environment

MAX_ROWS = DOCUMENTS.max_items  # a data source can fill the largest batch
MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000
# Blank rows are skipped, but each costs reading: a sheet may hold as many again as data rows.
MAX_SCANNED_ROWS = 2 * MAX_ROWS + 1
MAX_SOURCE_BYTES = 64 * 1024 * 1024  # a data source's rows, stored as JSON
# The csv module's own limit (131,072 by default) raised a bare csv.Error mid-read; with ours a
# reader stops at the first character over the limit and the error names the line.
csv.field_size_limit(MAX_CELL_CHARS)


class BadUpload(ValueError):
    pass


def template_fields(data: bytes) -> list[str]:
    """The variables a DOCX template uses; refuses what is not a safe, well-formed template."""
    try:
        inspect_zip(data, required="word/document.xml", what="DOCX")
        variables = DocxTemplate(io.BytesIO(data)).get_undeclared_template_variables(
            jinja_env=template_environment())
    except UnsafeArchive as exc:
        raise BadUpload(str(exc)) from exc
    except TemplateSyntaxError as exc:
        raise BadUpload(f"template syntax error: {exc.message} (line {exc.lineno})") from exc
    except Exception as exc:  # python-docx on a ZIP that is not really a document
        raise BadUpload(f"not a readable DOCX: {type(exc).__name__}: {exc}") from exc
    return sorted(variables)


def template_renderer(data: bytes) -> RendererChoice:
    """The renderer this (already checked) template gets: the part-level one unless it cannot
    prove it renders the template exactly as docxtpl does."""
    return choose_renderer(data)


def template_pdf_mode(data: bytes, renderer: str) -> PdfModeChoice:
    """How this (already checked) template's PDFs are made: rows merged into one conversion
    where that gives the pages converting them one by one gives, else one by one."""
    return choose_pdf_mode(data, renderer)


class ParsedSource(msgspec.Struct, frozen=True):
    """A data source read and checked: what is stored (its rows as JSON) and described."""

    format: str
    row_count: int
    columns: list[str]
    rows_json: bytes


def read_data_source(data: bytes, filename: str) -> ParsedSource:
    """In the gateway's sandbox (libs.sandbox): the rows of a CSV, XLSX or JSON upload,
    checked as they are read, as the JSON that is stored."""
    fmt, rows = parse_rows(data, filename)
    encoded = msgspec.json.encode(rows)
    if len(encoded) > MAX_SOURCE_BYTES:
        raise BadUpload(f"file: the rows take more than {MAX_SOURCE_BYTES // 2**20} MiB "
                        "as JSON")
    return ParsedSource(fmt, len(rows), sorted({key for row in rows for key in row}), encoded)


def parse_rows(data: bytes, filename: str) -> tuple[str, list[dict[str, Any]]]:
    """(format, rows) of a CSV, XLSX or JSON file: a list of objects keyed by column. Every
    row is checked as it is read; reading stops at the first one over a limit."""
    lower = filename.lower()
    if lower.endswith(".csv"):
        return "csv", _collect(_csv_rows(data))
    if lower.endswith(".xlsx"):
        return "xlsx", _collect(_xlsx_rows(data))
    if lower.endswith(".json"):
        return "json", _collect(_json_rows(data))
    raise BadUpload("file: use a .csv, .xlsx or .json file")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadUpload("file: not UTF-8 or GB18030 text")


def _csv_rows(data: bytes) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(_decode(data)))
    try:
        if not reader.fieldnames:
            raise BadUpload("file: the CSV has no header row")
        if len(reader.fieldnames) > MAX_COLUMNS:
            raise BadUpload(f"file: more than {MAX_COLUMNS} columns")
        for row in reader:
            yield {k: v for k, v in row.items() if k is not None}
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise BadUpload(f"file: line {reader.line_num}: a cell is longer than "
                            f"{MAX_CELL_CHARS} characters") from None
        raise BadUpload(f"file: line {reader.line_num}: {exc}") from None


def _xlsx_rows(data: bytes) -> Iterator[dict[str, Any]]:
    """The first sheet's rows, streamed: openpyxl's read-only reader parts, without the
    read-only worksheet, which parses a whole sheet up front when it has no <dimension>.
    A cell past column MAX_COLUMNS or a line past MAX_SCANNED_ROWS is refused when reached:
    a sheet claiming a million rows or columns is never read whole."""
    lines = _xlsx_lines(data)
    header = [str(cell) if cell is not None else "" for cell in next(lines, [])]
    if not any(header):
        raise BadUpload("file: the first sheet has no header row")
    for values in lines:
        if any(value is not None for value in values):
            yield {name: _cell(value) for name, value in zip(header, values, strict=False)
                   if name}


def _xlsx_lines(data: bytes) -> Iterator[list[Any]]:
    """The first MAX_COLUMNS values of each row of the first sheet, from row 1, blank rows
    included (at most MAX_SCANNED_ROWS in all)."""
    from openpyxl.reader.excel import ExcelReader  # only XLSX uploads pay for importing it
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._reader import WorkSheetParser

    try:
        inspect_zip(data, required="xl/workbook.xml", what="XLSX")
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = [rel.target for _, rel in reader.parser.find_sheets()
                  if rel.target in reader.valid_files and "chartsheet" not in rel.Type]
    except UnsafeArchive as exc:
        raise BadUpload(str(exc)) from exc
    except Exception as exc:
        raise BadUpload(f"not a readable XLSX: {type(exc).__name__}: {exc}") from exc
    if not sheets:
        raise BadUpload("file: the workbook has no worksheet")
    workbook = reader.wb
    blank: list[Any] = [None] * MAX_COLUMNS
    number = scanned = 0

    def counted(values: list[Any]) -> list[Any]:
        nonlocal scanned
        scanned += 1
        if scanned > MAX_SCANNED_ROWS:
            raise BadUpload(f"file: the first sheet has more than {MAX_SCANNED_ROWS} lines "
                            "(blank ones included)")
        return values

    with reader.archive.open(sheets[0]) as source:
        rows = WorkSheetParser(source, reader.shared_strings, data_only=True,
                               epoch=workbook.epoch, date_formats=workbook._date_formats,
                               timedelta_formats=workbook._timedelta_formats).parse()
        for index, cells in rows:
            while number + 1 < index:  # rows the sheet leaves out are blank
                number += 1
                yield counted(blank)
            values = list(blank)
            for cell in cells:
                if cell["value"] is None:
                    continue
                if cell["column"] > MAX_COLUMNS:
                    raise BadUpload(f"file: more than {MAX_COLUMNS} columns")
                values[cell["column"] - 1] = cell["value"]
            number = index
            yield counted(values)


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # dates and times as text


def _json_rows(data: bytes) -> list[dict[str, Any]]:
    try:
        check_json(data, field="file")  # depth first: a deep document breaks the parser
    except InputRejected as exc:
        raise BadUpload(str(exc)) from None
    try:
        rows = json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        raise BadUpload(f"file: invalid JSON: {exc}") from exc
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BadUpload("file: the JSON must be an array of objects")
    return rows


def _collect(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    collected: list[dict[str, Any]] = []
    for row in rows:
        if len(collected) == MAX_ROWS:
            raise BadUpload(f"file: more than {MAX_ROWS} rows")
        collected.append(_checked(len(collected) + 1, row))
    if not collected:
        raise BadUpload("file: no rows")
    return collected


def _checked(number: int, row: dict[str, Any]) -> dict[str, Any]:
    if len(row) > MAX_COLUMNS:
        raise BadUpload(f"file: row {number} has more than {MAX_COLUMNS} columns")
    for key, value in row.items():
        problem = text_problem(str(key))
        if problem:
            raise BadUpload(f"file: row {number}: a column name {problem}")
        if not isinstance(value, str):
            continue
        if len(value) > MAX_CELL_CHARS:
            raise BadUpload(f"file: row {number}, {key}: longer than {MAX_CELL_CHARS}")
        problem = text_problem(value)
        if problem:
            raise BadUpload(f"file: row {number}, {key}: {problem}")
    return row
