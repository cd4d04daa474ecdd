"""The gateway's shared upload sandboxes bound what one tenant takes: six template bombs from
one tenant are checked one after another while another tenant's ordinary upload goes through
at once, and spreadsheets are read in a sandbox process, stopping at the limits, so four 9 MB
XLSX uploads at once leave the gateway's own memory where it was."""

from __future__ import annotations

import asyncio
import io
import os
import secrets
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio

from services.gateway.documents.sandboxes import TEMPLATE_CHECK_LIMITS
from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import template
from tests.harness import ServiceHandle

# Far beyond the check's 5 CPU-seconds on any machine (the probe's 7**9999999 takes about 5 s here,
# so a quiet machine could finish it inside the limit).
CPU_BOMB = "{{ (7**99999999) % 10 }}"
BOMBS = 6
MIB = 2**20


def _children_cpu_s(pid: int) -> float:
    """CPU seconds used so far by the process's sandbox children (spawned workers)."""
    total = 0.0
    for task in os.listdir(f"/proc/{pid}/task"):
        for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split():
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError("VmRSS")


async def _upload_template(api: Api, data: bytes) -> httpx.Response:
    return await api.http.post("/api/v2/templates", timeout=300,
                               files={"file": ("t.docx", data)})


async def _timed_upload(api: Api, data: bytes) -> float:
    started = time.perf_counter()
    response = await _upload_template(api, data)
    assert response.status_code == 201, response.text
    return time.perf_counter() - started


async def test_template_bombs_cost_the_tenant_that_sent_them(stack: Stack) -> None:
    bomber = await stack.user(f"bombs-{secrets.token_hex(3)}", "b")
    calm = await stack.user(f"calm-{secrets.token_hex(3)}", "c")
    ordinary = template("Dear {{ name }},")
    # The first upload may wait for the sandbox processes to finish starting.
    assert (await _upload_template(calm, ordinary)).status_code == 201
    quiet = min([await _timed_upload(calm, ordinary) for _ in range(3)])
    gateway = stack.cluster.gateway.pid
    before = _children_cpu_s(gateway)
    bombs = [asyncio.create_task(_upload_template(bomber, template(CPU_BOMB)))
             for _ in range(BOMBS)]
    deadline = time.monotonic() + 30
    while _children_cpu_s(gateway) - before < 1.0:  # a bomb is burning a sandbox process
        assert time.monotonic() < deadline, "no bomb started"
        await asyncio.sleep(0.1)
    took = await _timed_upload(calm, ordinary)
    # Queued behind the bombs, it took 41-45 s. Now it waits for none: it is done before the
    # first bomb is (under 1 s on a quiet machine; on a busy one the bomb's own CPU still
    # slows it, never by a bomb's allowance).
    assert not any(bomb.done() for bomb in bombs), (quiet, took)
    assert took < max(1.0, TEMPLATE_CHECK_LIMITS.cpu_s * 0.5), (quiet, took)
    for _ in range(2):  # and again, while the bombs still queue
        assert await _timed_upload(calm, ordinary) < TEMPLATE_CHECK_LIMITS.cpu_s
    for response in await asyncio.gather(*bombs):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "INVALID_TEMPLATE"
        assert "limit" in response.json()["error"]["message"]


# --- spreadsheets ----------------------------------------------------------------------------

_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
        '"xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="s" sheetId="1" r:id="rId1"/>'
        '</sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        '"worksheets/sheet1.xml"/></Relationships>'),
}


def _cell(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def _xlsx(header: list[str], special_row: str = "", size: int = 9 * MIB) -> bytes:
    """A sheet of `header`, then `special_row`, then rows of random cells until the file is
    `size` bytes: about 14 times that inflated, as the spreadsheets of the attack were."""
    block = "".join(
        "<row>" + "".join(_cell(secrets.token_hex(2) + "." * 40) for _ in range(8)) + "</row>"
        for _ in range(2000)).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in _XLSX_PARTS.items():
            archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://'
                        b'schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            sheet.write(("<row>" + "".join(_cell(h) for h in header) + "</row>").encode())
            sheet.write(special_row.encode())
            while out.tell() < size:
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _spreadsheets() -> list[tuple[bytes, str]]:
    """Four spreadsheets over the limits, and what the refusal of each names."""
    eight = [f"c{i}" for i in range(8)]
    return [(_xlsx(eight), "more than 100000 rows"),
            (_xlsx([f"c{i}" for i in range(250)]), "more than 200 columns"),
            (_xlsx(eight, "<row>" + _cell("y" * 20_000) + "</row>"), "longer than 10000"),
            (_xlsx(eight, '<row><c r="KZ2" t="inlineStr"><is><t>far</t></is></c></row>'),
             "more than 200 columns")]


@pytest_asyncio.fixture(loop_scope="session")
async def big_body_gateway(stack: Stack) -> AsyncIterator[ServiceHandle]:
    """A gateway of its own, taking bodies as large as the default (the session's takes
    2 MB), whose memory no other test touches."""
    handle = await stack.cluster.start("gateway", CONVEYOR_GATEWAY_MAX_BODY_BYTES=str(20 * MIB),
                                       CONVEYOR_INSTANCE_NAME="gw-xlsx")
    try:
        yield handle
    finally:
        await stack.cluster.kill(handle)
        stack.cluster.handles.remove(handle)  # later tests use the session's gateway


async def test_four_big_spreadsheets_at_once_leave_the_gateway_s_memory_alone(
    stack: Stack, big_body_gateway: ServiceHandle
) -> None:
    files = await asyncio.to_thread(_spreadsheets)
    tenants = [await stack.user(f"sheets-{secrets.token_hex(3)}", "u") for _ in files]
    for api in tenants:
        api.http.base_url = httpx.URL(big_body_gateway.url)
    assert all(8.5 * MIB < len(data) < 9.5 * MIB for data, _ in files)

    async def upload(api: Api, data: bytes) -> httpx.Response:
        return await api.http.post("/api/v2/data-sources", timeout=300,
                                   files={"file": ("rows.xlsx", data)})

    small = _xlsx(["name"], "<row>" + _cell("Ada") + "</row>", size=0)
    warm = await upload(tenants[0], small)  # the sandbox processes are up
    assert warm.status_code == 201, warm.text
    start_mb = _rss_mb(big_body_gateway.pid)
    started = time.perf_counter()
    responses = await asyncio.gather(*(upload(api, data)
                                       for api, (data, _) in zip(tenants, files, strict=True)))
    elapsed = time.perf_counter() - started
    for response, (_, problem) in zip(responses, files, strict=True):
        assert response.status_code == 400, response.text
        assert problem in response.json()["error"]["message"], response.text
    after_mb = _rss_mb(big_body_gateway.pid)
    assert after_mb - start_mb < 50, (start_mb, after_mb, elapsed)
    # The gateway still answers at once, and small spreadsheets still read.
    assert (await upload(tenants[1], small)).status_code == 201
