"""計画管理書 (the register of assessments): filtered, read a batch at a time, written as it is read.

At the size of a prefecture with its cities (100,000 cases) the register cannot be built in memory:
its rows are read in id order one batch at a time, each batch in a short read transaction, the HTML
is rendered as a stream (Jinja's `generate`) and the .xlsx is written by openpyxl's write-only
workbook into a temporary file. Only the .docx, which Word opens whole anyway, is built in memory,
and only up to DOCX_MAX_ROWS rows.

The batches are read one after another, not in one snapshot: a case changed while a long register
is being written appears as it was when its batch was read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from jinja2 import Environment
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, select

from notifications.formats import Paper, html_to_docx, keep_as_text
from notifications.letterhead import Letterhead, letterhead_of
from workflow.clock import TOKYO
from workflow.dates import wareki
from workflow.db import Database
from workflow.engine import Workflows
from workflow.errors import InvalidInput
from workflow.models import Assessment
from workflow.organisations import Scoped
from workflow.policy import Action, Actor, authorize
from workflow.threshold import LEVEL_TITLES, Level

#: Rows read per query (and per short read transaction).
BATCH = 500
#: Characters of HTML sent at a time.
CHUNK = 64 * 1024
#: The longest register written as .docx (built whole in memory, as Word opens it); longer ones are
#: written as .xlsx or narrowed by the filters.
DOCX_MAX_ROWS = 2000

HEADER = ["番号", "評価対象の事務", "実施機関", "対象人数", "取扱者数", "重大事故", "評価の種類", "状態", "周期",
          "保有予定日", "意見聴取期間", "提出日", "公表日", "次回見直し期限", "再実施期限"]
SHEET = "計画管理書"


@dataclass(frozen=True)
class RegisterFilter:
    """Which assessments the register lists; a filter left out (None or "") lists them all."""

    office: str | None = None
    procedure: str | None = None
    state: str | None = None
    #: The 年度 (April to March) in which the case was opened: 2025 is 令和7年度.
    fiscal_year: int | None = None

    def criteria(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [col(Assessment.kind) == "assessment"]
        if self.office:
            where.append(col(Assessment.office) == self.office)
        if self.procedure:
            where.append(col(Assessment.procedure) == self.procedure)
        if self.state:
            where.append(col(Assessment.state) == self.state)
        if self.fiscal_year is not None:
            first, last = (datetime.combine(date(year, 4, 1), time(0), tzinfo=TOKYO)
                           for year in (self.fiscal_year, self.fiscal_year + 1))
            where += [col(Assessment.created_at) >= first, col(Assessment.created_at) < last]
        return where


@dataclass(frozen=True)
class Register:
    """A register the actor may read, counted; its rows are read when they are iterated."""

    db: Database
    workflows: Workflows
    letterhead: Letterhead
    env: Environment
    which: RegisterFilter
    total: int
    #: Whose register it is: rows are read in the reader's organisation.
    reader: Scoped

    @property
    def title(self) -> str:
        return f"{self.letterhead.organisation} 特定個人情報保護評価 計画管理書"

    def rows(self) -> Iterator[dict[str, Any]]:
        last = 0
        while True:
            with self.db.reading(self.reader) as session:
                batch = session.exec(select(Assessment).where(*self.which.criteria(), col(Assessment.id) > last)
                                     .order_by(col(Assessment.id)).limit(BATCH)).all()
            yield from (self._row(case) for case in batch)
            if len(batch) < BATCH:
                return
            last = batch[-1].id or last

    def _row(self, case: Assessment) -> dict[str, Any]:
        procedure = self.workflows.procedure(case.procedure)
        state = procedure.states.get(case.state)
        return {
            "id": case.id, "title": case.title, "office": case.office,
            "target_count": case.target_count, "handler_count": case.handler_count,
            "serious_incident": "有" if case.serious_incident else "無",
            "level": LEVEL_TITLES[Level(case.level)][0] if case.level else "—",
            "state": state.title.ja if state else case.state, "cycle": case.cycle,
            "planned_holding_date": case.planned_holding_date,
            "comment": (f"{wareki(case.comment_start, weekday=False)}〜{wareki(case.comment_end, weekday=False)}"
                        if case.comment_start and case.comment_end else "—"),
            "submitted_on": case.submitted_on, "published_on": case.published_on,
            "annual_review_due": case.annual_review_due, "reassessment_due": case.reassessment_due,
        }

    def html(self) -> Iterator[str]:
        """The HTML, rendered as the rows are read, in pieces of about CHUNK characters (Jinja yields
        a piece per tag and value: sent one by one, they would cost more than the rendering)."""
        template = self.env.select_template(self.letterhead.templates("papers/register.html"))
        pieces: list[str] = []
        size = 0
        for piece in template.generate(kind_title=SHEET, letterhead=self.letterhead, rows=self.rows(),
                                       total=self.total):
            pieces.append(piece)
            size += len(piece)
            if size >= CHUNK:
                yield "".join(pieces)
                pieces, size = [], 0
        if pieces:
            yield "".join(pieces)

    def write_xlsx(self, target: Path) -> None:
        """The .xlsx into `target`, written row by row (openpyxl keeps only the current row in memory)."""
        book = Workbook(write_only=True)
        sheet = book.create_sheet(SHEET)
        sheet.freeze_panes = "A2"
        header = []
        for name in HEADER:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in self.rows():
            cells = []
            for value in _sheet_values(row):
                cell = WriteOnlyCell(sheet, value="" if value is None else value)
                keep_as_text(cell)
                cells.append(cell)
            sheet.append(cells)
        book.save(target)

    def xlsx_file(self) -> Path:
        """The .xlsx in a temporary file, which the caller removes once it is sent."""
        with tempfile.NamedTemporaryFile(prefix="shingi-register-", suffix=".xlsx", delete=False) as handle:
            path = Path(handle.name)
        try:
            self.write_xlsx(path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def paper(self) -> Paper:
        """The whole register as a Paper (HTML, .docx, text), for registers up to DOCX_MAX_ROWS rows."""
        if self.total > DOCX_MAX_ROWS:
            raise InvalidInput.single(
                "format", "max_rows",
                f"Word 形式で出力できるのは {DOCX_MAX_ROWS:,} 件までです（該当 {self.total:,} 件）。"
                "Excel 形式で出力するか、実施機関・年度・状態で絞り込んでください。",
                f"A Word register holds at most {DOCX_MAX_ROWS:,} cases ({self.total:,} match): "
                "choose xlsx, or narrow it by office, fiscal year or state.")
        return Paper("register", self.title, "".join(self.html()))

    def docx(self) -> bytes:
        return html_to_docx(self.paper().html)


def _sheet_values(row: dict[str, Any]) -> list[Any]:
    return [row["id"], row["title"], row["office"], row["target_count"], row["handler_count"], row["serious_incident"],
            row["level"], row["state"], row["cycle"], row["planned_holding_date"], row["comment"], row["submitted_on"],
            row["published_on"], row["annual_review_due"], row["reassessment_due"]]


def open_register(db: Database, actor: Actor, workflows: Workflows, env: Environment,
                  which: RegisterFilter | None = None) -> Register:
    """The register for the secretariat and the administrator, counted before any row is written (so that
    a refusal is an answer, not a broken stream)."""
    authorize(actor, Action.READ_REGISTER)
    which = which or RegisterFilter()
    with db.reading(actor) as session:
        total = session.exec(select(func.count()).select_from(Assessment).where(*which.criteria())).one()
        letterhead = letterhead_of(session, actor.organisation_id)
    return Register(db, workflows, letterhead, env, which, total, actor)
