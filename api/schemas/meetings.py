"""Meetings of a body: the meeting with its agenda, attendance, materials and quorum."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.errors import LocalisedText
from api.schemas.common import from_row
from workflow.clock import TOKYO
from workflow.dates import wareki_datetime, wareki_time
from workflow.lifecycle import MEETING
from workflow.meetings import MeetingRecord, Page, Quorum
from workflow.models import Document


class AllowedAction(BaseModel):
    name: str
    title: LocalisedText
    to: str


class AgendaItemOut(BaseModel):
    id: int
    position: int
    assessment_id: int | None
    purpose: str
    title: str


class AttendeeOut(BaseModel):
    name: str
    role: str
    present: bool
    user_id: int | None


class MaterialOut(BaseModel):
    document_id: int
    label: str | None
    title: str
    classification: str
    assessment_id: int
    content_url: str | None


class QuorumOut(BaseModel):
    required: int
    present: int
    met: bool
    seats: int
    basis: str


class MeetingOut(BaseModel):
    id: int
    title: str
    body_id: int
    body: str
    term: str
    number: int
    starts_at: datetime
    ends_at: datetime | None
    when_ja: str = Field(description="令和5年11月16日（木）午前10時から午前11時30分まで")
    venue: str
    is_public: bool
    closed_reason: str | None
    status: str
    status_title: LocalisedText
    cancelled_reason: str | None
    observers: int | None
    sequence: int
    version: int
    agenda: list[AgendaItemOut]
    attendance: list[AttendeeOut]
    materials: list[MaterialOut]
    quorum: QuorumOut
    allowed_actions: list[AllowedAction]
    created_at: datetime
    updated_at: datetime


class MeetingPage(BaseModel):
    items: list[MeetingOut]
    total: int
    limit: int
    offset: int


def _when(record: MeetingRecord) -> str:
    """令和5年11月16日（木）午前10時から午前11時30分まで."""
    starts, ends = record.meeting.starts_at.astimezone(TOKYO), record.meeting.ends_at
    text = wareki_datetime(starts)
    if ends is not None:
        ends = ends.astimezone(TOKYO)
        text += "から" + (wareki_time(ends.time()) if ends.date() == starts.date() else wareki_datetime(ends)) + "まで"
    return text


def quorum_out(quorum: Quorum) -> QuorumOut:
    return QuorumOut(required=quorum.required, present=quorum.present, met=quorum.met, seats=quorum.seats,
                     basis=quorum.basis)


def _material_out(document: Document) -> MaterialOut:
    return from_row(MaterialOut, document, document_id=document.id,
                    content_url=None if document.purged_at else f"/api/documents/{document.id}/content")


def meeting_out(record: MeetingRecord) -> MeetingOut:
    meeting = record.meeting
    return from_row(
        MeetingOut, meeting,
        title=record.title, body=record.body.name,
        # instants in Tokyo time, as the meeting is announced
        starts_at=meeting.starts_at.astimezone(TOKYO),
        ends_at=meeting.ends_at.astimezone(TOKYO) if meeting.ends_at else None,
        when_ja=_when(record),
        status_title=MEETING.status_title(meeting.status).as_dict(),
        agenda=[AgendaItemOut.model_validate(item, from_attributes=True) for item in record.agenda],
        attendance=[from_row(AttendeeOut, row) for row in record.attendance],
        materials=[_material_out(document) for document in record.materials],
        quorum=quorum_out(record.quorum),
        allowed_actions=record.allowed,
    )


def meeting_page_out(page: Page) -> MeetingPage:
    return MeetingPage(items=[meeting_out(record) for record in page.items], total=page.total, limit=page.limit,
                       offset=page.offset)
