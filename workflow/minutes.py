"""Minutes (会議録): drafted by the secretariat, sent to the members for corrections with a deadline,
corrected, confirmed by the chair (会長一任; the secretariat may record the chair's confirmation),
and published.

The public version holds only the passages marked public, with the meeting's facts; the full
version (non-public passages, corrections, drafts) is for the body's members and the staff.

The statuses and what may be done in each are data (states/lifecycles/minutes.yaml, run by
workflow.lifecycle): an event tried in the wrong status is refused with 409 listing the events
possible now.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlmodel import Session, col, select

from workflow import audit, changes, lifecycle, meetings
from workflow.accounts import audit_actor
from workflow.clock import TOKYO, Clock, local_today
from workflow.columns import load_row, stored_id
from workflow.dates import wareki
from workflow.db import Database
from workflow.errors import Conflict, InvalidInput, Message, Record, RecordNotFound
from workflow.lifecycle import MEETING, MINUTES
from workflow.meetings import MeetingRecord, MeetingStatus
from workflow.models import Membership, UserAccount
from workflow.organisation_settings import calendar_of
from workflow.policy import Action, Actor, Decision, Position, authorize, decide, records_for_members
from workflow.records import Meeting, Minutes, MinutesCorrection
from workflow.validation import JSON_INTEGER, RecordDate, Text200, Text20000

MAX_PASSAGES = 2000
MAX_TOTAL_CHARACTERS = 2_000_000  # a three-hour meeting's minutes run to about 60,000 characters


class MinutesStatus(StrEnum):
    DRAFT = "draft"            #: 草案
    CORRECTING = "correcting"  #: 委員確認中
    CONFIRMED = "confirmed"    #: 確定
    PUBLISHED = "published"    #: 公表済み


# --- inputs -------------------------------------------------------------------------------------

class Passage(BaseModel):
    """One speaker's passage; a non-public one stays out of the public version."""

    model_config = ConfigDict(extra="forbid")

    speaker: Text200 = Field(description="発言者 (例: 部会長, 事務局, 実施機関, 佐々木委員)")
    text: Text20000
    public: StrictBool = Field(default=True, description="false: 非公開部分")


class MinutesDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passages: list[Passage] = Field(min_length=1, max_length=MAX_PASSAGES)


class SendForCorrections(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deadline: RecordDate = Field(description="修正の締切 (a closed day moves to the next open day)")


#: A passage of the minutes, by its place (from 0).
PassageIndex = Annotated[int, Field(ge=0, le=MAX_PASSAGES - 1), JSON_INTEGER]


class CorrectionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passage_index: PassageIndex | None = Field(default=None,
                                               description="the passage (from 0); none for a general remark")
    text: Text20000 = Field(description="the correction (e.g. the passage as it should read)")
    member: Text200 | None = Field(
        default=None, description="the member, when the secretariat records a correction received in writing")


class ApplyCorrection(BaseModel):
    """How the secretariat applies a correction: by default its text replaces the passage's."""

    model_config = ConfigDict(extra="forbid")

    passage_index: PassageIndex | None = None
    text: Text20000 | None = Field(default=None, description="the passage's new text "
                                                                     "(default: the correction's)")
    speaker: Text200 | None = None
    public: StrictBool | None = Field(default=None, description="mark the passage public or not")


class Confirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirmed_on: RecordDate | None = Field(default=None, description="default: today")
    confirmed_by: Text200 | None = Field(
        default=None, description="the chair who confirmed (the secretariat recording it; default: the body's chair)")


class Publication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    published_on: RecordDate | None = Field(default=None, description="default: today")


# --- views --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MinutesView:
    """Minutes as one actor reads them: `full`, or `public` (public passages only)."""

    minutes: Minutes
    meeting: MeetingRecord
    version: Literal["full", "public"]
    passages: list[dict[str, Any]]
    corrections: list[MinutesCorrection] = field(default_factory=list)
    notices: list[Message] = field(default_factory=list)

    @property
    def allowed(self) -> list[dict[str, Any]]:
        return lifecycle.allowed(MINUTES, self.minutes.status) if self.version == "full" else []


# --- services -----------------------------------------------------------------------------------

def draft(db: Database, clock: Clock, meeting_id: int, data: MinutesDraft, actor: Actor) -> tuple[MinutesView, bool]:
    """Draft the minutes of a held meeting, or replace the draft's passages. True when created."""
    _check_size(data.passages)
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _meeting_for_staff(session, actor, meeting_id)
        if meeting.status != MeetingStatus.HELD.value:
            raise Conflict(Message("会議録は開催済みの会議についてのみ作成できます。",
                                   "Minutes are drafted for a meeting that was held."),
                           current_state=meeting.status,
                           allowed_events=lifecycle.allowed(MEETING, meeting.status))
        minutes = _find(session, stored_id(meeting), for_update=True)
        created = minutes is None
        if minutes is None:
            minutes = Minutes(meeting_id=stored_id(meeting), status=MINUTES.initial, created_at=now)
        else:
            lifecycle.require(MINUTES, "revise", minutes.status)
        minutes.passages = [passage.model_dump() for passage in data.passages]
        minutes.updated_at = now
        session.add(minutes)
        session.flush()
        audit.record(session, audit_actor(actor), "minutes.drafted" if created else "minutes.revised", at=now,
                     object_type="minutes", object_id=minutes.id,
                     detail={"meeting_id": meeting.id, "passages": len(data.passages),
                             "non_public": sum(1 for p in data.passages if not p.public)})
        return _full(session, meeting, minutes, actor), created


def send_for_corrections(db: Database, clock: Clock, meeting_id: int, data: SendForCorrections,
                         actor: Actor) -> MinutesView:
    """Send the draft to the members for corrections by a deadline; a day the meeting's organisation is
    closed moves to its next open one."""
    today = local_today(clock)
    if data.deadline < today:
        raise InvalidInput.single("deadline", "not_past", "締切には今日以降の日付を指定してください。",
                                  "The deadline cannot be in the past.")
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _meeting_for_staff(session, actor, meeting_id)
        minutes = _fire(session, meeting, "send")
        calendar = calendar_of(session, meeting.organisation_id)
        deadline = calendar.deadline(data.deadline)
        notices = []
        if deadline != data.deadline:
            reason = calendar.closed_reason(data.deadline)
            notices.append(Message(
                f"{wareki(data.deadline)}は閉庁日（{reason}）のため、締切を翌開庁日の{wareki(deadline)}としました。",
                f"{data.deadline:%Y-%m-%d} is a closed day ({reason}); the deadline moves to the next open day, "
                f"{deadline:%Y-%m-%d}."))
        minutes.correction_deadline, minutes.sent_on, minutes.updated_at = deadline, today, now
        session.add(minutes)
        audit.record(session, audit_actor(actor), "minutes.sent", at=now, object_type="minutes", object_id=minutes.id,
                     detail={"meeting_id": meeting.id, "deadline": deadline.isoformat(),
                             "requested_deadline": data.deadline.isoformat()})
        _changed(session, minutes, now)
        view = _full(session, meeting, minutes, actor)
    return replace(view, notices=notices)


def record_correction(db: Database, clock: Clock, meeting_id: int, data: CorrectionInput,
                      actor: Actor) -> MinutesCorrection:
    """A member's correction to the draft (the member is the actor; the staff may record one received in writing)."""
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _visible_meeting(session, actor, meeting_id)
        authorize(actor, Action.CORRECT_MINUTES, meeting)
        member = actor.label
        if data.member is not None:
            if not records_for_members(actor):
                raise InvalidInput.single("member", "secretariat_only",
                                          "委員の修正は本人の名前で記録されます（member は事務局のみ指定できます）。",
                                          "A member's correction is recorded in their own name; only the "
                                          "secretariat names the member.")
            member = data.member
        minutes = _fire(session, meeting, "correct")
        _check_index(minutes, data.passage_index, "passage_index")
        correction = MinutesCorrection(minutes_id=stored_id(minutes), member=member, received_on=local_today(clock),
                                       passage_index=data.passage_index, text=data.text)
        session.add(correction)
        minutes.updated_at = now
        session.add(minutes)
        session.flush()
        late = minutes.correction_deadline is not None and correction.received_on > minutes.correction_deadline
        audit.record(session, audit_actor(actor), "minutes.correction_recorded", at=now, object_type="minutes",
                     object_id=minutes.id, detail={"correction_id": correction.id, "member": member,
                                                   "passage_index": data.passage_index, "late": late})
        return correction


def apply_correction(db: Database, clock: Clock, meeting_id: int, correction_id: int, data: ApplyCorrection,
                     actor: Actor) -> MinutesView:
    """The secretariat applies a correction to its passage."""
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _meeting_for_staff(session, actor, meeting_id)
        minutes = _fire(session, meeting, "apply")
        correction = load_row(session, MinutesCorrection, correction_id, Record.CORRECTION)
        if correction.minutes_id != minutes.id:  # another meeting's: not there for this one
            raise RecordNotFound(Record.CORRECTION, correction_id)
        if correction.applied:
            raise Conflict(Message("この修正は既に反映されています。", "This correction has already been applied."),
                           current_state=minutes.status, allowed_events=lifecycle.allowed(MINUTES, minutes.status))
        index = data.passage_index if data.passage_index is not None else correction.passage_index
        if index is None:
            raise InvalidInput.single("passage_index", "required",
                                      "反映先の発言（passage_index）を指定してください。", "Name the passage to correct.")
        _check_index(minutes, index, "passage_index")
        passages = [dict(passage) for passage in minutes.passages]
        before = dict(passages[index])
        passages[index]["text"] = data.text or correction.text
        if data.speaker is not None:
            passages[index]["speaker"] = data.speaker
        if data.public is not None:
            passages[index]["public"] = data.public
        minutes.passages = passages  # a new list: JSON columns are not change-tracked in place
        minutes.updated_at = now
        correction.applied = True
        session.add_all([minutes, correction])
        session.flush()
        audit.record(session, audit_actor(actor), "minutes.correction_applied", at=now, object_type="minutes",
                     object_id=minutes.id, detail={"correction_id": correction.id, "passage_index": index,
                                                   "before": before, "after": passages[index]})
        return _full(session, meeting, minutes, actor)


def _changed(session: Session, minutes: Minutes, now: datetime) -> None:
    """Sent for corrections or confirmed: recorded as a change, which the members' reminder of the
    correction deadline follows after the commit."""
    changes.record(session, changes.Subject.MINUTES, stored_id(minutes), now)


def confirm(db: Database, clock: Clock, meeting_id: int, data: Confirmation, actor: Actor) -> MinutesView:
    """The chair (or acting chair) confirms; the secretariat may record the chair's confirmation."""
    today = local_today(clock)
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _visible_meeting(session, actor, meeting_id)
        authorize(actor, Action.CONFIRM_MINUTES, meeting)
        minutes = _fire(session, meeting, "confirm")
        confirmed_on = data.confirmed_on or today
        if not held_on(meeting) <= confirmed_on <= today:
            raise InvalidInput.single("confirmed_on", "between_meeting_and_today",
                                      "確定日は会議の開催日から今日までの日付にしてください。",
                                      "The confirmation date lies between the meeting and today.")
        minutes.confirmed_on = confirmed_on
        minutes.confirmed_by = _confirmer(session, actor, meeting, data.confirmed_by)
        minutes.updated_at = now
        session.add(minutes)
        pending = _pending(session, minutes)
        audit.record(session, audit_actor(actor), "minutes.confirmed", at=now, object_type="minutes",
                     object_id=minutes.id, detail={"confirmed_by": minutes.confirmed_by,
                                                   "confirmed_on": confirmed_on.isoformat(),
                                                   "unapplied_corrections": [c.id for c in pending]})
        _changed(session, minutes, now)
        return _full(session, meeting, minutes, actor)


def publish(db: Database, clock: Clock, meeting_id: int, data: Publication, actor: Actor) -> MinutesView:
    today = local_today(clock)
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _meeting_for_staff(session, actor, meeting_id)
        minutes = _fire(session, meeting, "publish")
        published_on = data.published_on or today
        if minutes.confirmed_on is None:  # never: minutes are published only once confirmed
            raise RuntimeError(f"minutes {minutes.id} are confirmed but have no confirmation date")
        if not minutes.confirmed_on <= published_on <= today:
            raise InvalidInput.single("published_on", "between_confirmation_and_today",
                                      "公表日は確定日から今日までの日付にしてください。",
                                      "The publication date lies between the confirmation and today.")
        minutes.published_on, minutes.updated_at = published_on, now
        session.add(minutes)
        shown = sum(1 for passage in minutes.passages if passage.get("public"))
        audit.record(session, audit_actor(actor), "minutes.published", at=now, object_type="minutes",
                     object_id=minutes.id, detail={"published_on": published_on.isoformat(), "public_passages": shown,
                                                   "withheld_passages": len(minutes.passages) - shown})
        return _full(session, meeting, minutes, actor)


def read(db: Database, meeting_id: int, actor: Actor, version: Literal["full", "public"] | None = None) -> MinutesView:
    """The minutes: the full version for those who may read it (unless `public` is asked for), else
    the public one — which exists only once published (before that the minutes are not found)."""
    with db.reading(actor) as session:
        meeting = _visible_meeting(session, actor, meeting_id)
        may_read_full = decide(actor, Action.READ_FULL_MINUTES, meeting) is Decision.ALLOW
        if version == "full":
            authorize(actor, Action.READ_FULL_MINUTES, meeting)
        minutes = _find(session, stored_id(meeting))
        if minutes is None or (not may_read_full and minutes.status != MinutesStatus.PUBLISHED.value):
            # Not drafted, or (for whoever reads only the public version) not yet published: the same words.
            raise RecordNotFound(Record.MINUTES, meeting_id)
        if version == "public" or not may_read_full:
            return _public(session, meeting, minutes, actor)
        return _full(session, meeting, minutes, actor)


# --- internals ----------------------------------------------------------------------------------

def held_on(meeting: Meeting) -> date:
    """The meeting's date in Tokyo."""
    return meeting.starts_at.astimezone(TOKYO).date()


def _visible_meeting(session: Session, actor: Actor, meeting_id: int) -> Meeting:
    meeting = meetings.load(session, meeting_id)
    meetings.authorize_read(session, actor, meeting)  # a closed meeting is hidden from outsiders (404)
    return meeting


def _meeting_for_staff(session: Session, actor: Actor, meeting_id: int) -> Meeting:
    meeting = _visible_meeting(session, actor, meeting_id)
    authorize(actor, Action.MANAGE_MEETINGS, meeting)
    return meeting


def _find(session: Session, meeting_id: int, *, for_update: bool = False) -> Minutes | None:
    statement = select(Minutes).where(Minutes.meeting_id == meeting_id)
    return session.exec(statement.with_for_update() if for_update else statement).first()


def _fire(session: Session, meeting: Meeting, event: str) -> Minutes:
    """The meeting's minutes, locked and in the status `event` leads to, if it is possible in theirs (else 409)."""
    # FOR UPDATE: two events on the same minutes on PostgreSQL happen one after the other.
    minutes = _find(session, stored_id(meeting), for_update=True)
    if minutes is None:
        raise RecordNotFound(Record.MINUTES, stored_id(meeting))
    minutes.status = lifecycle.require(MINUTES, event, minutes.status)
    return minutes


def _check_size(passages: list[Passage]) -> None:
    if sum(len(p.text) + len(p.speaker) for p in passages) > MAX_TOTAL_CHARACTERS:
        raise InvalidInput.single("passages", "max_total_length",
                                  f"会議録が長すぎます（合計{MAX_TOTAL_CHARACTERS:,}文字まで）。",
                                  f"The minutes are too long (at most {MAX_TOTAL_CHARACTERS:,} characters).")


def _check_index(minutes: Minutes, index: int | None, field_name: str) -> None:
    if index is not None and index >= len(minutes.passages):
        raise InvalidInput.single(field_name, "passage_exists",
                                  f"発言は0から{len(minutes.passages) - 1}までの番号で指定してください。",
                                  f"Give a passage number from 0 to {len(minutes.passages) - 1}.")


def _pending(session: Session, minutes: Minutes) -> list[MinutesCorrection]:
    return list(session.exec(select(MinutesCorrection).where(
        MinutesCorrection.minutes_id == minutes.id, col(MinutesCorrection.applied).is_(False))).all())


def _confirmer(session: Session, actor: Actor, meeting: Meeting, named: str | None) -> str:
    """Who confirmed: the chair themself, or (recorded by the secretariat) the chair named or on record."""
    position = actor.bodies.get(meeting.body_id)
    if position in (Position.CHAIR, Position.ACTING_CHAIR):
        if named is not None and named != actor.label:
            raise InvalidInput.single("confirmed_by", "self", "会長（部会長）が確定する場合、確定者は本人です。",
                                      "A chair confirms in their own name.")
        return actor.label
    if named is not None:
        return named
    chairs = session.exec(select(UserAccount.display_name).join(Membership, col(Membership.user_id) == UserAccount.id)
                          .where(Membership.body_id == meeting.body_id,
                                 Membership.position == Position.CHAIR.value)).all()
    if len(chairs) != 1:
        raise InvalidInput.single("confirmed_by", "required",
                                  "確定した会長（部会長）の氏名を入力してください。", "Name the chair who confirmed the minutes.")
    return chairs[0]


def _meeting_record(session: Session, meeting: Meeting, actor: Actor) -> MeetingRecord:
    return meetings.record_of(session, meeting, actor)


def _full(session: Session, meeting: Meeting, minutes: Minutes, actor: Actor) -> MinutesView:
    corrections = list(session.exec(select(MinutesCorrection).where(MinutesCorrection.minutes_id == minutes.id)
                                    .order_by(col(MinutesCorrection.id))).all())
    passages = [{"index": index, **passage} for index, passage in enumerate(minutes.passages)]
    return MinutesView(minutes=minutes, meeting=_meeting_record(session, meeting, actor), version="full",
                       passages=passages, corrections=corrections)


def _public(session: Session, meeting: Meeting, minutes: Minutes, actor: Actor) -> MinutesView:
    passages = [{"speaker": p["speaker"], "text": p["text"]} for p in minutes.passages if p.get("public")]
    return MinutesView(minutes=minutes, meeting=_meeting_record(session, meeting, actor), version="public",
                       passages=passages)


