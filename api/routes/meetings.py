"""/api/meetings: meetings of a body (schedule, move, cancel, held, next, attendance, materials,
quorum) and their minutes (draft, send for corrections, correct, apply, confirm, publish)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import Body, Path, Query, Response, status
from pydantic import BaseModel

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, LocalisedText
from api.routing import Router
from states.definition import EARLIEST_DATE, LATEST_DATE
from workflow import meetings, minutes
from workflow.clock import TOKYO
from workflow.dates import wareki_datetime, wareki_time
from workflow.lifecycle import MEETING, MINUTES
from workflow.meetings import (
    MAX_ID,
    AttendanceUpdate,
    Cancellation,
    HeldMeeting,
    MaterialInput,
    MeetingFilter,
    MeetingMove,
    MeetingRecord,
    MeetingStatus,
    NewMeeting,
    NextMeeting,
    Quorum,
)
from workflow.minutes import (
    ApplyCorrection,
    Confirmation,
    CorrectionInput,
    MinutesDraft,
    MinutesView,
    Publication,
    SendForCorrections,
)
from workflow.records import MinutesCorrection

router = Router(prefix="/api/meetings", tags=["meetings"], responses=ERROR_RESPONSES)

MeetingId = Annotated[int, Path(ge=1, le=MAX_ID, description="meeting id")]
CorrectionId = Annotated[int, Path(ge=1, le=MAX_ID, description="correction id")]


# --- response shapes ----------------------------------------------------------------------------

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
    when_ja: str
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


class PassageOut(BaseModel):
    index: int | None = None  # full version only
    speaker: str
    text: str
    public: bool | None = None  # full version only


class CorrectionOut(BaseModel):
    id: int
    member: str
    received_on: date
    passage_index: int | None
    text: str
    applied: bool


class MinutesOut(BaseModel):
    meeting_id: int
    meeting: MeetingOut
    version: Literal["full", "public"]
    status: str
    status_title: LocalisedText
    passages: list[PassageOut]
    confirmed_on: date | None = None
    confirmed_by: str | None = None
    published_on: date | None = None
    # full version only
    correction_deadline: date | None = None
    sent_on: date | None = None
    corrections: list[CorrectionOut] | None = None
    allowed_actions: list[AllowedAction] | None = None
    notices: list[LocalisedText] | None = None


def _when(record: MeetingRecord) -> str:
    """令和5年11月16日（木）午前10時から午前11時30分まで."""
    starts, ends = record.meeting.starts_at.astimezone(TOKYO), record.meeting.ends_at
    text = wareki_datetime(starts)
    if ends is not None:
        ends = ends.astimezone(TOKYO)
        text += "から" + (wareki_time(ends.time()) if ends.date() == starts.date() else wareki_datetime(ends)) + "まで"
    return text


def _quorum_out(quorum: Quorum) -> dict[str, Any]:
    return {"required": quorum.required, "present": quorum.present, "met": quorum.met, "seats": quorum.seats,
            "basis": quorum.basis}


def meeting_out(record: MeetingRecord) -> dict[str, Any]:
    meeting = record.meeting
    return {
        "id": meeting.id, "title": record.title, "body_id": meeting.body_id, "body": record.body.name,
        "term": meeting.term, "number": meeting.number,
        "starts_at": meeting.starts_at.astimezone(TOKYO),
        "ends_at": meeting.ends_at.astimezone(TOKYO) if meeting.ends_at else None,
        "when_ja": _when(record), "venue": meeting.venue, "is_public": meeting.is_public,
        "closed_reason": meeting.closed_reason, "status": meeting.status,
        "status_title": MEETING.status_title(meeting.status).as_dict(),
        "cancelled_reason": meeting.cancelled_reason, "observers": meeting.observers,
        "sequence": meeting.sequence, "version": meeting.version,
        "agenda": [item.model_dump(exclude={"meeting_id"}) for item in record.agenda],
        "attendance": [{"name": row.name, "role": row.role, "present": row.present, "user_id": row.user_id}
                       for row in record.attendance],
        "materials": [{"document_id": d.id, "label": d.label, "title": d.title, "classification": d.classification,
                       "assessment_id": d.assessment_id,
                       "content_url": None if d.purged_at else f"/api/documents/{d.id}/content"}
                      for d in record.materials],
        "quorum": _quorum_out(record.quorum),
        "allowed_actions": record.allowed,
        "created_at": meeting.created_at, "updated_at": meeting.updated_at,
    }


def _correction_out(correction: MinutesCorrection) -> dict[str, Any]:
    return correction.model_dump(exclude={"minutes_id"})


def minutes_out(view: MinutesView) -> dict[str, Any]:
    record = view.minutes
    out: dict[str, Any] = {
        "meeting_id": record.meeting_id, "meeting": meeting_out(view.meeting), "version": view.version,
        "status": record.status,
        "status_title": MINUTES.status_title(record.status).as_dict(),
        "passages": view.passages, "confirmed_on": record.confirmed_on, "confirmed_by": record.confirmed_by,
        "published_on": record.published_on,
    }
    if view.version == "full":
        out.update(correction_deadline=record.correction_deadline, sent_on=record.sent_on,
                   corrections=[_correction_out(c) for c in view.corrections], allowed_actions=view.allowed)
    if view.notices:
        out["notices"] = [notice.as_dict() for notice in view.notices]
    return out


@lru_cache(maxsize=8)


# --- meetings -----------------------------------------------------------------------------------

@router.post("", status_code=status.HTTP_201_CREATED, response_model=MeetingOut,
             summary="会議を設定する（会議体・期・回、日時、場所、公開／非公開、議題、資料）")
def schedule(data: NewMeeting, services: ServicesDep, actor: ActorDep, response: Response) -> dict:
    record = meetings.schedule(services.db, services.clock, data, actor)
    response.headers["Location"] = f"/api/meetings/{record.meeting.id}"
    return meeting_out(record)


@router.get("", response_model=MeetingPage, summary="会議の一覧（閲覧できるものだけ、日時順）")
def list_meetings(
    services: ServicesDep,
    actor: ActorDep,
    body_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    meeting_status: Annotated[MeetingStatus | None, Query(alias="status")] = None,
    date_from: Annotated[date | None, Query(alias="from", ge=EARLIEST_DATE, le=LATEST_DATE,
                                    description="開催日がこの日以降 (YYYY-MM-DD)")] = None,
    date_to: Annotated[date | None, Query(alias="to", ge=EARLIEST_DATE, le=LATEST_DATE,
                                  description="開催日がこの日以前 (YYYY-MM-DD)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:
    page = meetings.list_meetings(services.db, MeetingFilter(body_id=body_id, status=meeting_status,
                                                             date_from=date_from, date_to=date_to),
                                  limit, offset, actor)
    return {"items": [meeting_out(record) for record in page.items], "total": page.total, "limit": page.limit,
            "offset": page.offset}


@router.get("/{meeting_id}", response_model=MeetingOut, summary="会議（議題・出席者・資料・定足数）")
def get_meeting(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep) -> dict:
    return meeting_out(meetings.get_meeting(services.db, meeting_id, actor))


@router.patch("/{meeting_id}", response_model=MeetingOut, summary="会議の日時・場所を変更する（変更の通番が上がる）")
def move(meeting_id: MeetingId, change: MeetingMove, services: ServicesDep, actor: ActorDep) -> dict:
    return meeting_out(meetings.move(services.db, services.clock, meeting_id, change, actor))


@router.post("/{meeting_id}/cancel", response_model=MeetingOut, summary="会議を中止する")
def cancel(meeting_id: MeetingId, cancellation: Cancellation, services: ServicesDep, actor: ActorDep) -> dict:
    return meeting_out(meetings.cancel(services.db, services.clock, meeting_id, cancellation, actor))


@router.post("/{meeting_id}/held", response_model=MeetingOut, summary="開催済みとして記録する（傍聴者数・出席者）")
def record_held(meeting_id: MeetingId, held: HeldMeeting, services: ServicesDep, actor: ActorDep) -> dict:
    return meeting_out(meetings.record_held(services.db, services.clock, meeting_id, held, actor))


@router.post("/{meeting_id}/next", status_code=status.HTTP_201_CREATED, response_model=MeetingOut,
             summary="次回の会議を決める（同じ会議体・期の次の回）")
def schedule_next(meeting_id: MeetingId, data: NextMeeting, services: ServicesDep, actor: ActorDep,
                  response: Response) -> dict:
    record = meetings.schedule_next(services.db, services.clock, meeting_id, data, actor)
    response.headers["Location"] = f"/api/meetings/{record.meeting.id}"
    return meeting_out(record)


@router.put("/{meeting_id}/attendance", response_model=MeetingOut, summary="出席者を記録する（定足数を確認できる）")
def set_attendance(meeting_id: MeetingId, update: AttendanceUpdate, services: ServicesDep, actor: ActorDep) -> dict:
    return meeting_out(meetings.set_attendance(services.db, services.clock, meeting_id, update, actor))


@router.post("/{meeting_id}/materials", response_model=MeetingOut,
             summary="議題の案件の資料を会議資料とする（資料1、資料3-1 …）")
def link_material(meeting_id: MeetingId, material: MaterialInput, services: ServicesDep, actor: ActorDep) -> dict:
    return meeting_out(meetings.link_material(services.db, services.clock, meeting_id, material, actor))


@router.get("/{meeting_id}/quorum", response_model=QuorumOut, summary="定足数（必要数・出席委員数・充足）")
def get_quorum(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep) -> dict:
    return _quorum_out(meetings.quorum(services.db, meeting_id, actor))


# --- minutes ------------------------------------------------------------------------------------

@router.post("/{meeting_id}/minutes", response_model=MinutesOut, status_code=status.HTTP_201_CREATED,
             summary="会議録の草案を作成する（草案の間は差し替え）", responses={200: {"description": "草案を差し替えた"}})
def draft_minutes(meeting_id: MeetingId, data: MinutesDraft, services: ServicesDep, actor: ActorDep,
                  response: Response) -> dict:
    view, created = minutes.draft(services.db, services.clock, meeting_id, data, actor)
    if not created:
        response.status_code = status.HTTP_200_OK
    return minutes_out(view)


@router.get("/{meeting_id}/minutes", response_model=MinutesOut,
            summary="会議録（全文を閲覧できない場合は公開版：公開の発言のみ）")
def read_minutes(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep,
                 version: Literal["full", "public"] | None = None) -> dict:
    return minutes_out(minutes.read(services.db, meeting_id, actor, version))


@router.post("/{meeting_id}/minutes/send", response_model=MinutesOut,
             summary="会議録を委員に送付し修正を依頼する（締切が閉庁日なら翌開庁日）")
def send_minutes(meeting_id: MeetingId, data: SendForCorrections, services: ServicesDep, actor: ActorDep) -> dict:
    calendar = services.calendar
    return minutes_out(minutes.send_for_corrections(services.db, services.clock, meeting_id, data, actor, calendar))


@router.post("/{meeting_id}/minutes/corrections", response_model=CorrectionOut, status_code=status.HTTP_201_CREATED,
             summary="会議録の修正を申し出る（委員）")
def record_correction(meeting_id: MeetingId, data: CorrectionInput, services: ServicesDep, actor: ActorDep) -> dict:
    return _correction_out(minutes.record_correction(services.db, services.clock, meeting_id, data, actor))


@router.post("/{meeting_id}/minutes/corrections/{correction_id}/apply", response_model=MinutesOut,
             summary="修正を会議録に反映する（事務局）")
def apply_correction(meeting_id: MeetingId, correction_id: CorrectionId, services: ServicesDep, actor: ActorDep,
                     data: Annotated[ApplyCorrection | None, Body()] = None) -> dict:
    return minutes_out(minutes.apply_correction(services.db, services.clock, meeting_id, correction_id,
                                                data or ApplyCorrection(), actor))


@router.post("/{meeting_id}/minutes/confirm", response_model=MinutesOut,
             summary="会議録を確定する（会長・部会長、または事務局が会長に代わって記録）")
def confirm_minutes(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep,
                    data: Annotated[Confirmation | None, Body()] = None) -> dict:
    return minutes_out(minutes.confirm(services.db, services.clock, meeting_id, data or Confirmation(), actor))


@router.post("/{meeting_id}/minutes/publish", response_model=MinutesOut, summary="会議録を公表する")
def publish_minutes(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep,
                    data: Annotated[Publication | None, Body()] = None) -> dict:
    return minutes_out(minutes.publish(services.db, services.clock, meeting_id, data or Publication(), actor))
