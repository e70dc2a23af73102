"""The deliberation record read as a whole, in the caller's transaction: what a generated document
(開催通知, 部会報告, 答申書, 質問事項, 意見募集の結果, 会議結果報告, 計画管理書) is written from.

The functions authorize nothing: the caller has already been allowed to read the meeting or the
case. What lies inside is filtered by the same rules as everywhere: a meeting's materials are those
the reader may know of (`policy.can_know_document`), so a paper never names members-only material
to someone the pages hide it from. Everything a document says comes through here (and `public_comments.disposition_of`), so the
documents and the domain never derive the same fact two ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from workflow.documents import material_order
from workflow.models import Assessment, Body, Document
from workflow.policy import Actor, can_know_document
from workflow.records import AgendaItem, Attendance, Finding, Meeting, Opinion, ReportChange, ReportVersion, Resolution
from workflow.resolutions import council_of


@dataclass(frozen=True)
class MeetingRecord:
    """A meeting with its body (and the council the body belongs to), agenda, materials and attendance."""

    meeting: Meeting
    body: Body
    council: Body | None
    agenda: Sequence[AgendaItem]
    materials: Sequence[Document]
    attendance: Sequence[Attendance]


def meeting_record(session: Session, meeting: Meeting, reader: Actor) -> MeetingRecord:
    body = session.get(Body, meeting.body_id)
    if body is None:  # a meeting's body is a foreign key: it exists while the meeting does
        raise LookupError(f"meeting {meeting.id} has no body {meeting.body_id}")
    agenda = session.exec(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
                          .order_by(col(AgendaItem.position))).all()
    rows = session.exec(select(Document, Assessment).join(Assessment, col(Assessment.id) == Document.assessment_id)
                        .where(Document.meeting_id == meeting.id).order_by(col(Document.id))).all()
    materials = sorted((document for document, case in rows if can_know_document(reader, case, document)),
                       key=lambda document: material_order(document.label))
    attendance = session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)
                              .order_by(col(Attendance.id))).all()
    return MeetingRecord(meeting, body, council_of(session, body), agenda, materials, attendance)


def offices_on_agenda(session: Session, meeting: Meeting) -> frozenset[str]:
    """The offices whose cases the meeting discusses (they may read the meeting)."""
    rows = session.exec(select(Assessment.office).join(AgendaItem, col(AgendaItem.assessment_id) == Assessment.id)
                        .where(AgendaItem.meeting_id == meeting.id)).all()
    return frozenset(rows)


@dataclass(frozen=True)
class CaseMeeting:
    """One agenda item about the case, with its meeting and the meeting's body."""

    meeting: Meeting
    item: AgendaItem
    body: Body


def meetings_of_case(session: Session, case: Assessment) -> list[CaseMeeting]:
    """The meetings (not cancelled) whose agenda names the case, in the order they were held."""
    rows = session.exec(
        select(Meeting, AgendaItem, Body).join(AgendaItem, col(AgendaItem.meeting_id) == Meeting.id)
        .join(Body, col(Body.id) == Meeting.body_id)
        .where(AgendaItem.assessment_id == case.id, Meeting.status != "cancelled")
        .order_by(col(Meeting.starts_at))).all()
    return [CaseMeeting(meeting, item, body) for meeting, item, body in rows]


def findings_of(session: Session, case: Assessment) -> list[Finding]:
    """The members' questions and opinions of the case's current cycle, as raised."""
    return list(session.exec(select(Finding).where(Finding.assessment_id == case.id, Finding.cycle == case.cycle)
                             .order_by(col(Finding.raised_on), col(Finding.id))).all())


def opinion_of(session: Session, case: Assessment) -> Opinion | None:
    """The reviewing body's opinion of the current cycle (the latest recorded)."""
    return session.exec(select(Opinion).where(Opinion.assessment_id == case.id, Opinion.cycle == case.cycle)
                        .order_by(col(Opinion.id).desc())).first()


def resolution_of(session: Session, case: Assessment, kind: str) -> Resolution | None:
    """The subcommittee report or the reply of the current cycle."""
    return session.exec(select(Resolution).where(Resolution.assessment_id == case.id, Resolution.cycle == case.cycle,
                                                 Resolution.kind == kind)).first()


def report_changes(session: Session, case: Assessment) -> list[tuple[ReportChange, ReportVersion]]:
    """修正箇所: every change the current cycle's report versions made, by version and position."""
    return [(change, version) for change, version in session.exec(
        select(ReportChange, ReportVersion).join(ReportVersion, col(ReportVersion.id) == ReportChange.version_id)
        .where(ReportVersion.assessment_id == case.id, ReportVersion.cycle == case.cycle)
        .order_by(col(ReportVersion.number), col(ReportChange.position))).all()]


def version_numbers(session: Session, case: Assessment) -> dict[int, int]:
    """Report version id → its number (第N版), every cycle."""
    return {version.id: version.number for version in session.exec(
        select(ReportVersion).where(ReportVersion.assessment_id == case.id)).all() if version.id is not None}


def assessments(session: Session) -> list[Assessment]:
    """Every assessment (not the other consultations), in the order they were opened (計画管理書)."""
    return list(session.exec(select(Assessment).where(Assessment.kind == "assessment")
                             .order_by(col(Assessment.id))).all())
