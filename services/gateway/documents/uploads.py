"""Checking and reading uploads: DOCX templates and CSV/XLSX/JSON data sources. Everything
here is CPU-bound and runs in a thread; archives are checked before anything parses them."""

import csv
import io
import json
from typing import Any

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


def parse_rows(data: bytes, filename: str) -> tuple[str, list[dict[str, Any]]]:
    """(format, rows) of a CSV, XLSX or JSON file: a list of objects keyed by column."""
    lower = filename.lower()
    if lower.endswith(".csv"):
        return "csv", _limit(_csv_rows(data))
    if lower.endswith(".xlsx"):
        return "xlsx", _limit(_xlsx_rows(data))
    if lower.endswith(".json"):
        return "json", _limit(_json_rows(data))
    raise BadUpload("file: use a .csv, .xlsx or .json file")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadUpload("file: not UTF-8 or GB18030 text")


def _csv_rows(data: bytes) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(_decode(data)))
    try:
        if not reader.fieldnames:
            raise BadUpload("file: the CSV has no header row")
        if len(reader.fieldnames) > MAX_COLUMNS:
            raise BadUpload(f"file: more than {MAX_COLUMNS} columns")
        rows = []
        for row in reader:
            rows.append({k: v for k, v in row.items() if k is not None})
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise BadUpload(f"file: line {reader.line_num}: a cell is longer than "
                            f"{MAX_CELL_CHARS} characters") from None
        raise BadUpload(f"file: line {reader.line_num}: {exc}") from None
    return rows


def _xlsx_rows(data: bytes) -> list[dict[str, Any]]:
    from openpyxl import load_workbook  # only XLSX uploads pay for importing it

    try:
        inspect_zip(data, required="xl/workbook.xml", what="XLSX")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except UnsafeArchive as exc:
        raise BadUpload(str(exc)) from exc
    except Exception as exc:
        raise BadUpload(f"not a readable XLSX: {type(exc).__name__}: {exc}") from exc
    sheet = workbook.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = [str(cell) if cell is not None else "" for cell in next(lines, ())]
    if not any(header):
        raise BadUpload("file: the first sheet has no header row")
    if len(header) > MAX_COLUMNS:
        raise BadUpload(f"file: more than {MAX_COLUMNS} columns")
    rows = []
    for values in lines:
        if all(value is None for value in values):
            continue
        rows.append({name: _cell(value) for name, value in zip(header, values, strict=False)
                     if name})
        if len(rows) > MAX_ROWS:
            break
    workbook.close()
    return rows


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


def _limit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        raise BadUpload("file: no rows")
    if len(rows) > MAX_ROWS:
        raise BadUpload(f"file: more than {MAX_ROWS} rows")
    for index, row in enumerate(rows):
        if len(row) > MAX_COLUMNS:
            raise BadUpload(f"file: row {index + 1} has more than {MAX_COLUMNS} columns")
        for key, value in row.items():
            problem = text_problem(str(key))
            if problem:
                raise BadUpload(f"file: row {index + 1}: a column name {problem}")
            if not isinstance(value, str):
                continue
            if len(value) > MAX_CELL_CHARS:
                raise BadUpload(f"file: row {index + 1}, {key}: longer than {MAX_CELL_CHARS}")
            problem = text_problem(value)
            if problem:
                raise BadUpload(f"file: row {index + 1}, {key}: {problem}")
    return rows
