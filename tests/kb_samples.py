"""Documents for knowledge-base tests, made on the fly: good ones in every supported format and
hostile ones (a corrupt PDF, a DOCX zip bomb, a DOCX with an external entity)."""

from __future__ import annotations

import io
import textwrap
import zipfile

PHOTOSYNTHESIS = (
    "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to produce glucose and oxygen. Chlorophyll in the leaves absorbs light energy and "
    "the plant stores it as chemical energy in sugar molecules.")
REVOLUTION = (
    "The French Revolution began in 1789 with the storming of the Bastille in Paris. It ended "
    "the absolute monarchy of Louis XVI and spread the ideas of liberty and equality.")
VOLCANO = (
    "A volcano erupts when magma from deep inside the Earth rises through cracks in the crust. "
    "The eruption releases lava, ash and hot gases that can bury towns nearby.")
CYCLING = (
    "The Tour de France is a bicycle race held every July. Riders cover about 3,500 kilometres "
    "in three weeks, climbing the Alps and the Pyrenees before the finish in Paris.")
BLOCKCHAIN = (
    "A blockchain is a ledger shared by many computers. Each block holds a batch of "
    "transactions and the hash of the previous block, so past entries cannot be altered.")
PANDA = (
    "大熊猫是中国特有的珍稀动物，主要生活在四川、陕西和甘肃的山区竹林中。大熊猫几乎只吃竹子，"
    "每天要花十几个小时进食，一只成年大熊猫每天能吃掉十多公斤竹子。")
RAIL = (
    "中国高速铁路网络是世界上规模最大的高铁系统，运营里程超过四万公里。复兴号动车组的最高运营"
    "时速达到三百五十公里，连接了北京、上海、广州等主要城市。")
TEA = (
    "中国是茶的故乡，茶文化有数千年的历史。绿茶、红茶、乌龙茶和普洱茶各有特色，龙井茶产于杭州"
    "西湖，讲究色绿、香郁、味甘、形美。")


def _pdf_escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` (Latin-1) in Helvetica."""
    lines = textwrap.wrap(text, 80)
    ops = "".join(f"({_pdf_escape(line)}) Tj T* " for line in lines)
    stream = f"BT /F1 11 Tf 14 TL 50 780 Td {ops}ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def corrupt_pdf() -> bytes:
    """Starts like a PDF, then nothing a parser can use."""
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n" + bytes(range(256)) * 20


def text_image(lines: list[str]) -> bytes:
    """A PNG of black Latin text on white, large enough for OCR."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1000, 60 * len(lines) + 40), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    for number, line in enumerate(lines):
        draw.text((20, 20 + 60 * number), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None,
              images: tuple[bytes, ...] = (),
              headings: tuple[tuple[int, str], ...] = ()) -> bytes:
    """Headings (level, title) come first, styled Heading N, then the paragraphs."""
    from docx import Document

    document = Document()
    for level, title in headings:
        document.add_heading(title, level)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    for image in images:
        document.add_picture(io.BytesIO(image))
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _with_part(docx: bytes, name: str, content: bytes | None = None,
               stream_zeros: int = 0) -> bytes:
    """`docx` with part `name` replaced by `content` or by `stream_zeros` zero bytes."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if entry.filename != name:
                target.writestr(entry, source.read(entry.filename))
        if content is not None:
            target.writestr(name, content)
        else:
            with target.open(name, "w", force_zip64=True) as part:
                block = b"\0" * (1024 * 1024)
                for _ in range(stream_zeros // len(block)):
                    part.write(block)
    return out.getvalue()


def docx_bomb(expanded_mb: int = 300) -> bytes:
    """A DOCX whose document part inflates to `expanded_mb` MB from a few hundred KB."""
    return _with_part(make_docx(["bomb"]), "word/document.xml",
                      stream_zeros=expanded_mb * 1024 * 1024)


def docx_xxe() -> bytes:
    """A DOCX whose document part declares an external entity reading /etc/passwd."""
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
           b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           b"<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>")
    return _with_part(make_docx(["xxe"]), "word/document.xml", content=xml)


def docx_bomb_lying(expanded_mb: int = 16) -> bytes:
    """A DOCX bomb whose zip headers claim its document part inflates to 1 KB."""
    data = bytearray(_with_part(make_docx(["bomb"]), "word/document.xml",
                                content=b"\0" * (expanded_mb * 1024 * 1024)))
    name = b"word/document.xml"
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := data.find(signature, at)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name:
                data[at + size_at:at + size_at + 4] = (1024).to_bytes(4, "little")
            at += 4
    return bytes(data)
