"""The formats every generated document is written in: HTML as written, .docx and plain text read from
that HTML, and .xlsx from rows (the register). Just enough HTML for the documents' own templates."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from docx import Document as WordDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font


@dataclass
class Paper:
    kind: str
    title: str
    html: str
    #: Sheets for the .xlsx form (register only): sheet name → rows (the first row is the header).
    sheets: dict[str, list[list[Any]]] = field(default_factory=dict)

    def docx(self) -> bytes:
        return html_to_docx(self.html)

    def xlsx(self) -> bytes:
        return sheets_to_xlsx(self.sheets)

    def text(self) -> str:
        return html_to_text(self.html)


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Any] = field(default_factory=list)

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)


class _TreeBuilder(HTMLParser):
    """Just enough HTML for the documents' templates: headings, paragraphs, lists, tables."""

    _VOID = {"br", "meta", "link", "hr", "img"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag == "br":
            node.children.append("\n")
        elif tag not in self._VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() or (data and self.stack[-1].tag in ("p", "td", "th", "li", "span", "strong")):
            self.stack[-1].children.append(" ".join(data.split()) if "\n" in data else data)


def _parse(html: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    body = _find(builder.root, "main") or _find(builder.root, "body") or builder.root
    return body


def _find(node: _Node, tag: str) -> _Node | None:
    for child in node.children:
        if isinstance(child, _Node):
            if child.tag == tag:
                return child
            found = _find(child, tag)
            if found:
                return found
    return None


def _blocks(node: _Node) -> Iterable[_Node]:
    """The block elements in document order (containers such as section and div are walked into)."""
    for child in node.children:
        if not isinstance(child, _Node) or child.tag in ("style", "script", "head", "title"):
            continue
        if child.tag in ("section", "div", "header", "footer", "article", "main"):
            yield from _blocks(child)
        else:
            yield child


def html_to_docx(html: str) -> bytes:

    word = WordDocument()
    style = word.styles["Normal"]
    style.font.name, style.font.size = "MS Mincho", Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "MS Mincho")
    alignments = {"right": WD_ALIGN_PARAGRAPH.RIGHT, "center": WD_ALIGN_PARAGRAPH.CENTER}
    for block in _blocks(_parse(html)):
        align = alignments.get((block.attrs.get("class") or "").split(" ")[0])
        if block.tag in ("h1", "h2", "h3", "h4"):
            paragraph = word.add_heading(block.text().strip(), level=int(block.tag[1]) - 1 if block.tag != "h1" else 0)
        elif block.tag in ("ul", "ol"):
            for item in block.children:
                if isinstance(item, _Node) and item.tag == "li":
                    word.add_paragraph(item.text().strip(),
                                       style="List Number" if block.tag == "ol" else "List Bullet")
            continue
        elif block.tag == "table":
            rows = [row for row in _all(block, "tr")]
            width = max((len([c for c in row.children if isinstance(c, _Node) and c.tag in ("td", "th")])
                         for row in rows), default=0)
            if not rows or not width:
                continue
            table = word.add_table(rows=len(rows), cols=width)
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                cells = [c for c in row.children if isinstance(c, _Node) and c.tag in ("td", "th")]
                for c, cell in enumerate(cells):
                    table.cell(r, c).text = cell.text().strip()
                    if cell.tag == "th":
                        for run in table.cell(r, c).paragraphs[0].runs:
                            run.bold = True
            continue
        else:
            paragraph = word.add_paragraph(block.text().strip())
        if align is not None:
            paragraph.alignment = align
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _all(node: _Node, tag: str) -> Iterable[_Node]:
    for child in node.children:
        if isinstance(child, _Node):
            if child.tag == tag:
                yield child
            else:
                yield from _all(child, tag)


def html_to_text(html: str) -> str:
    lines: list[str] = []
    for block in _blocks(_parse(html)):
        if block.tag == "table":
            for row in _all(block, "tr"):
                lines.append(" | ".join(cell.text().strip() for cell in row.children
                                        if isinstance(cell, _Node) and cell.tag in ("td", "th")))
        elif block.tag in ("ul", "ol"):
            lines.extend(f"・{item.text().strip()}" for item in block.children if isinstance(item, _Node))
        else:
            lines.append(block.text().strip())
    return "\n".join(line for line in lines if line)


def sheets_to_xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    """A workbook of small sheets, in memory (the register, which grows, is written row by row by
    notifications/register.py); the first row of each sheet is its header."""
    book = Workbook()
    book.remove(book.worksheets[0])  # the empty sheet a new workbook starts with
    for name, rows in sheets.items():
        sheet = book.create_sheet(name[:31])
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row, start=1):  # cell by cell: finding a row again costs its sheet
                cell = sheet.cell(row=number, column=column, value=_cell(value))
                keep_as_text(cell)
                if number == 1:
                    cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    return value if value is not None else ""


#: What a spreadsheet would take for the start of a formula (=, +, -, @) or of a DDE payload (tab, CR).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def keep_as_text(cell: Cell) -> None:
    """Text that looks like a formula (a case titled `=HYPERLINK(…)`) stays text: typed as a string and
    quote-prefixed, so that neither opening nor editing the cell runs it."""
    if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True
