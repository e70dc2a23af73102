"""/api/meetings: meetings of a body (schedule, move, cancel, held, next, attendance, materials,
quorum) and their minutes (draft, send for corrections, correct, apply, confirm, publish)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Body, Path, Query, Response, status

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.routing import Router
from api.schemas.meetings import MeetingOut, MeetingPage, QuorumOut, meeting_out, meeting_page_out, quorum_out
from api.schemas.minutes import CorrectionOut, MinutesOut, correction_out, minutes_out
from workflow import meetings, minutes
from workflow.meetings import (
    MAX_ID,
    AttendanceUpdate,
    Cancellation,
    HeldMeeting,
    MaterialInput,
    MeetingFilter,
    MeetingMove,
    MeetingStatus,
    NewMeeting,
    NextMeeting,
)
from workflow.minutes import (
    ApplyCorrection,
    Confirmation,
    CorrectionInput,
    MinutesDraft,
    Publication,
    SendForCorrections,
)
from workflow.validation import RecordDate

router = Router(prefix="/api/meetings", tags=["meetings"], responses=ERROR_RESPONSES)

MeetingId = Annotated[int, Path(ge=1, le=MAX_ID, description="meeting id")]
CorrectionId = Annotated[int, Path(ge=1, le=MAX_ID, description="correction id")]


# --- meetings -----------------------------------------------------------------------------------

@router.post("", status_code=status.HTTP_201_CREATED,
             summary="会議を設定する（会議体・期・回、日時、場所、公開／非公開、議題、資料）")
def schedule(data: NewMeeting, services: ServicesDep, actor: ActorDep, response: Response) -> MeetingOut:
    record = meetings.schedule(services.db, services.clock, data, actor)
    response.headers["Location"] = f"/api/meetings/{record.meeting.id}"
    return meeting_out(record)


@router.get("", summary="会議の一覧（閲覧できるものだけ、日時順）")
def list_meetings(
    services: ServicesDep,
    actor: ActorDep,
    body_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    meeting_status: Annotated[MeetingStatus | None, Query(alias="status")] = None,
    date_from: Annotated[RecordDate | None, Query(alias="from", description="開催日がこの日以降 (YYYY-MM-DD)")] = None,
    date_to: Annotated[RecordDate | None, Query(alias="to", description="開催日がこの日以前 (YYYY-MM-DD)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> MeetingPage:
    page = meetings.list_meetings(services.db, MeetingFilter(body_id=body_id, status=meeting_status,
                                                             date_from=date_from, date_to=date_to),
                                  limit, offset, actor)
    return meeting_page_out(page)


@router.get("/{meeting_id}", summary="会議（議題・出席者・資料・定足数）")
def get_meeting(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep) -> MeetingOut:
    return meeting_out(meetings.get_meeting(services.db, meeting_id, actor))


@router.patch("/{meeting_id}", summary="会議の日時・場所を変更する（変更の通番が上がる）")
def move(meeting_id: MeetingId, change: MeetingMove, services: ServicesDep, actor: ActorDep) -> MeetingOut:
    return meeting_out(meetings.move(services.db, services.clock, meeting_id, change, actor))


@router.post("/{meeting_id}/cancel", summary="会議を中止する")
def cancel(meeting_id: MeetingId, cancellation: Cancellation, services: ServicesDep, actor: ActorDep) -> MeetingOut:
    return meeting_out(meetings.cancel(services.db, services.clock, meeting_id, cancellation, actor))


@router.post("/{meeting_id}/held", summary="開催済みとして記録する（傍聴者数・出席者）")
def record_held(meeting_id: MeetingId, held: HeldMeeting, services: ServicesDep, actor: ActorDep) -> MeetingOut:
    return meeting_out(meetings.record_held(services.db, services.clock, meeting_id, held, actor))


@router.post("/{meeting_id}/next", status_code=status.HTTP_201_CREATED,
             summary="次回の会議を決める（同じ会議体・期の次の回）")
def schedule_next(meeting_id: MeetingId, data: NextMeeting, services: ServicesDep, actor: ActorDep,
                  response: Response) -> MeetingOut:
    record = meetings.schedule_next(services.db, services.clock, meeting_id, data, actor)
    response.headers["Location"] = f"/api/meetings/{record.meeting.id}"
    return meeting_out(record)


@router.put("/{meeting_id}/attendance", summary="出席者を記録する（定足数を確認できる）")
def set_attendance(meeting_id: MeetingId, update: AttendanceUpdate, services: ServicesDep,
                   actor: ActorDep) -> MeetingOut:
    return meeting_out(meetings.set_attendance(services.db, services.clock, meeting_id, update, actor))


@router.post("/{meeting_id}/materials", summary="議題の案件の資料を会議資料とする（資料1、資料3-1 …）")
def link_material(meeting_id: MeetingId, material: MaterialInput, services: ServicesDep,
                  actor: ActorDep) -> MeetingOut:
    return meeting_out(meetings.link_material(services.db, services.clock, meeting_id, material, actor))


@router.get("/{meeting_id}/quorum", summary="定足数（必要数・出席委員数・充足）")
def get_quorum(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep) -> QuorumOut:
    return quorum_out(meetings.quorum(services.db, meeting_id, actor))


# --- minutes ------------------------------------------------------------------------------------

@router.post("/{meeting_id}/minutes", status_code=status.HTTP_201_CREATED,
             summary="会議録の草案を作成する（草案の間は差し替え）", responses={200: {"description": "草案を差し替えた"}})
def draft_minutes(meeting_id: MeetingId, data: MinutesDraft, services: ServicesDep, actor: ActorDep,
                  response: Response) -> MinutesOut:
    view, created = minutes.draft(services.db, services.clock, meeting_id, data, actor)
    if not created:
        response.status_code = status.HTTP_200_OK
    return minutes_out(view)


@router.get("/{meeting_id}/minutes", summary="会議録（全文を閲覧できない場合は公開版：公開の発言のみ）")
def read_minutes(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep,
                 version: Literal["full", "public"] | None = None) -> MinutesOut:
    return minutes_out(minutes.read(services.db, meeting_id, actor, version))


@router.post("/{meeting_id}/minutes/send", summary="会議録を委員に送付し修正を依頼する（締切が閉庁日なら翌開庁日）")
def send_minutes(meeting_id: MeetingId, data: SendForCorrections, services: ServicesDep,
                 actor: ActorDep) -> MinutesOut:
    return minutes_out(minutes.send_for_corrections(services.db, services.clock, meeting_id, data, actor))


@router.post("/{meeting_id}/minutes/corrections", status_code=status.HTTP_201_CREATED,
             summary="会議録の修正を申し出る（委員）")
def record_correction(meeting_id: MeetingId, data: CorrectionInput, services: ServicesDep,
                      actor: ActorDep) -> CorrectionOut:
    return correction_out(minutes.record_correction(services.db, services.clock, meeting_id, data, actor))


@router.post("/{meeting_id}/minutes/corrections/{correction_id}/apply", summary="修正を会議録に反映する（事務局）")
def apply_correction(meeting_id: MeetingId, correction_id: CorrectionId, services: ServicesDep, actor: ActorDep,
                     data: Annotated[ApplyCorrection | None, Body()] = None) -> MinutesOut:
    return minutes_out(minutes.apply_correction(services.db, services.clock, meeting_id, correction_id,
                                                data or ApplyCorrection(), actor))


@router.post("/{meeting_id}/minutes/confirm", summary="会議録を確定する（会長・部会長、または事務局が会長に代わって記録）")
def confirm_minutes(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep,
                    data: Annotated[Confirmation | None, Body()] = None) -> MinutesOut:
    return minutes_out(minutes.confirm(services.db, services.clock, meeting_id, data or Confirmation(), actor))


@router.post("/{meeting_id}/minutes/publish", summary="会議録を公表する")
def publish_minutes(meeting_id: MeetingId, services: ServicesDep, actor: ActorDep,
                    data: Annotated[Publication | None, Body()] = None) -> MinutesOut:
    return minutes_out(minutes.publish(services.db, services.clock, meeting_id, data or Publication(), actor))
