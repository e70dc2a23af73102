"""The deliberation record of a case: findings (質問事項), report versions (修正箇所), public comments."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from api.errors import LocalisedText
from api.schemas.common import from_row
from workflow import lifecycle
from workflow.findings import FindingStatus
from workflow.lifecycle import FINDING
from workflow.public_comments import Disposition, DispositionRow
from workflow.records import Finding, PublicComment
from workflow.report_versions import ChangeEntry, VersionEntry

# --- findings -----------------------------------------------------------------------------------


class MoveOut(BaseModel):
    name: str
    title: LocalisedText
    to: str


class FindingOut(BaseModel):
    id: int
    assessment_id: int
    cycle: int
    meeting_id: int | None
    raised_by: str
    raised_on: date
    kind: str
    section: str | None
    text: str
    answer: str | None
    answered_on: date | None
    answered_at_meeting_id: int | None
    status: str
    status_title: LocalisedText
    carried_to_meeting_id: int | None
    resolved_in_version_id: int | None
    moves: list[MoveOut]
    created_at: datetime
    updated_at: datetime


class NumberedFindingOut(FindingOut):
    no: int


def _finding_moves(finding: Finding) -> dict[str, object]:
    state = FindingStatus(finding.status)
    return {"status_title": state.title.as_dict(), "moves": lifecycle.allowed(FINDING, state)}


def finding_out(finding: Finding) -> FindingOut:
    return from_row(FindingOut, finding, **_finding_moves(finding))


def numbered_finding_out(no: int, finding: Finding) -> NumberedFindingOut:
    return from_row(NumberedFindingOut, finding, no=no, **_finding_moves(finding))


# --- report versions ----------------------------------------------------------------------------

class ChangeOut(BaseModel):
    id: int
    position: int
    section: str
    before: str
    after: str
    reason: str
    finding_ids: list[int]


class WithheldOut(BaseModel):
    section: str
    reason: str


class VersionOut(BaseModel):
    id: int
    assessment_id: int
    cycle: int
    number: int
    label: str
    submitted_on: date
    note: str | None
    document_id: int | None
    public_document_id: int | None
    changes: list[ChangeOut]
    withheld: list[WithheldOut]
    created_at: datetime


def version_out(entry: VersionEntry) -> VersionOut:
    # the entry's document ids, not the version's: they are None where the reader may not know them
    return from_row(VersionOut, entry.version, document_id=entry.document_id,
                    public_document_id=entry.public_document_id,
                    changes=[from_row(ChangeOut, change) for change in entry.changes],
                    withheld=[from_row(WithheldOut, part) for part in entry.withheld])


class AnsweredFindingOut(BaseModel):
    id: int
    raised_by: str
    kind: str
    section: str | None
    text: str
    status: str


class ChangeListItemOut(ChangeOut):
    """One line of the 修正箇所一覧."""

    version_id: int
    version_number: int
    version_label: str
    submitted_on: date
    cycle: int
    findings: list[AnsweredFindingOut]


def change_item_out(entry: ChangeEntry) -> ChangeListItemOut:
    version = entry.version
    return from_row(ChangeListItemOut, entry.change, version_id=version.id, version_number=version.number,
                    version_label=version.label, submitted_on=version.submitted_on, cycle=version.cycle,
                    findings=[from_row(AnsweredFindingOut, finding) for finding in entry.findings])


# --- public comments ----------------------------------------------------------------------------

class PublicCommentOut(BaseModel):
    id: int
    assessment_id: int
    cycle: int
    received_on: date
    channel: str
    submitter: str
    summary: str
    response: str | None
    change_id: int | None
    no_change_reason: str | None
    created_at: datetime


def comment_out(comment: PublicComment) -> PublicCommentOut:
    return from_row(PublicCommentOut, comment)


class DispositionChangeOut(BaseModel):
    id: int
    version_number: int | None
    section: str
    before: str
    after: str


class DispositionRowOut(BaseModel):
    no: int
    comment_id: int
    received_on: date
    channel: str
    submitter: str
    summary: str
    response: str | None
    change: DispositionChangeOut | None
    no_change_reason: str | None


class PeriodOut(BaseModel):
    start: date
    end: date
    days: int
    shortened_reason: str | None


class DispositionOut(BaseModel):
    assessment_id: int
    cycle: int
    period: PeriodOut | None
    closed: bool
    count: int
    recorded: int
    consistent: bool
    pending: int
    warnings: list[LocalisedText]
    statement: LocalisedText | None
    rows: list[DispositionRowOut]


def _disposition_row_out(row: DispositionRow) -> DispositionRowOut:
    change = None
    if row.change is not None:
        change = from_row(DispositionChangeOut, row.change,
                          version_number=row.change_version.number if row.change_version else None)
    return from_row(DispositionRowOut, row.comment, no=row.no, comment_id=row.comment.id, change=change)


def disposition_out(table: Disposition) -> DispositionOut:
    period = None
    if table.period is not None:
        period = PeriodOut(start=table.period[0], end=table.period[1], days=table.period_days,
                           shortened_reason=table.shortened_reason)
    return DispositionOut(
        assessment_id=table.case_id, cycle=table.cycle, period=period, closed=table.closed, count=table.count,
        recorded=table.recorded, consistent=table.consistent, pending=table.pending,
        warnings=[warning.as_dict() for warning in table.warnings],
        statement=table.statement.as_dict() if table.statement else None,
        rows=[_disposition_row_out(row) for row in table.rows],
    )
