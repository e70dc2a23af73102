"""Meetings of a body (会議): schedule, move, cancel, record as held, fix the next one at the end of a
meeting; the agenda (議題), the materials handed out (資料1, 資料3-1 …), attendance and the quorum.

Each change is one transaction on the meeting row with compare-and-swap on its version (the mapper's
version_id_col writes `UPDATE … WHERE id = :id AND version = :seen`): a client sends the version it
read, and a stale one is refused with 409. Moving or cancelling a meeting raises `sequence`, which
feeds iCalendar SEQUENCE and the change notices.

What may be done to a meeting in each status is data (states/lifecycles/meeting.yaml, run by
workflow.lifecycle), not branches.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
)
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from workflow import audit, changes, documents, lifecycle
from workflow.accounts import audit_actor, body_by_name
from workflow.clock import TOKYO, Clock
from workflow.columns import MAX_ID, load_row, stored_id
from workflow.dates import meeting_title, wareki_datetime
from workflow.db import Database
from workflow.documents import Upload, audit_reference
from workflow.errors import Conflict, FieldProblem, InvalidInput, Message, Record, StaleVersion, not_found_message
from workflow.files import FileStore
from workflow.lifecycle import MEETING
from workflow.models import Assessment, Body, Document, Membership, UserAccount
from workflow.policy import Action, Actor, authorize, can_know_document, can_see_case, visible_meetings
from workflow.records import AgendaItem, Attendance, Meeting
from workflow.validation import (
    JSON_INTEGER,
    RecordInstant,
    Text20OrEmpty,
    Text200,
    Text300,
    Text500,
    problems_from_validation_error,
    refusal,
)

MAX_NUMBER = 999  # 第N回: numbering restarts with each term


class Purpose(StrEnum):
    """Why an item is on the agenda."""

    PRE_CHECK = "pre_check"                    #: 事前点検
    THIRD_PARTY_REVIEW = "third_party_review"  #: 第三者点検
    REPLY_DRAFT = "reply_draft"                #: 答申案の検討
    REPORT = "report"                          #: 報告
    OTHER = "other"                            #: その他


class AttendanceRole(StrEnum):
    """How someone attended, as the minutes list them (出席者)."""

    MEMBER = "member"                    #: 委員
    CHAIR = "chair"                      #: 会長 / 部会長
    ACTING_CHAIR = "acting_chair"        #: 職務代理者
    SECRETARIAT = "secretariat"          #: 事務局
    OFFICE = "office"                    #: 実施機関
    REFERENCE = "reference"              #: 参考人
    OBSERVER_MEMBER = "observer_member"  #: オブザーバーの委員 (another body's member; not counted for the quorum)


#: The attendees who count towards the quorum: the body's own members.
QUORUM_ROLES = frozenset({AttendanceRole.MEMBER, AttendanceRole.CHAIR, AttendanceRole.ACTING_CHAIR})


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"  #: 開催予定
    HELD = "held"            #: 開催済み
    CANCELLED = "cancelled"  #: 中止


# --- inputs -------------------------------------------------------------------------------------

#: An instant in ISO 8601 (2023-11-16T10:00:00+09:00); without an offset it is Tokyo time.
MeetingTime = RecordInstant


#: 資料1, 資料3-1, 参考資料1 — with ASCII or full-width digits and dashes (the OpenAPI schema's pattern).
LABEL_PATTERN = r"^(参考)?資料[0-9０-９]{1,3}([-－‐−ー][0-9０-９]{1,3}){0,2}$"
_LABEL = re.compile(LABEL_PATTERN)


def _label(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if not _LABEL.fullmatch(value):
        raise refusal("label_format", "資料の番号は「資料1」「資料3-1」「参考資料1」のように記載してください。",
                      "Write the label as 資料1, 資料3-1 or 参考資料1.")
    # 資料３－１ and 資料3-1 are the same label.
    return unicodedata.normalize("NFKC", value).replace("ー", "-").replace("‐", "-").replace("−", "-")


#: 資料1, 資料2, 資料3-1, 参考資料1 (full-width digits and dashes are accepted).
MaterialLabel = Annotated[str, BeforeValidator(_label), Field(json_schema_extra={"pattern": LABEL_PATTERN})]
VersionSeen = Annotated[int, Field(ge=1, le=MAX_ID, description="the meeting's version you last read"), JSON_INTEGER]


class AgendaItemInput(BaseModel):
    """議題: one item of the agenda, usually about one case."""

    model_config = ConfigDict(extra="forbid")

    position: Annotated[int, Field(ge=1, le=99), JSON_INTEGER] | None = Field(
        default=None, description="順番 (default: the order given)")
    assessment_id: Annotated[int, Field(ge=1, le=MAX_ID), JSON_INTEGER] | None = Field(
        default=None, description="the case it is about")
    purpose: Purpose = Field(default=Purpose.OTHER, description="pre_check | third_party_review | reply_draft | "
                                                                "report | other")
    title: Text300 = Field(description="議題 (e.g. 全項目評価書の第三者点検について)")


class MaterialInput(BaseModel):
    """A document of a case on the agenda, handed out at the meeting under a label."""

    model_config = ConfigDict(extra="forbid")

    document_id: Annotated[int, Field(ge=1, le=MAX_ID), JSON_INTEGER]
    label: MaterialLabel = Field(description="資料1, 資料2, 資料3-1 …")


class AttendeeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200 = Field(description="氏名 as the minutes write it (e.g. 小林 登)")
    role: AttendanceRole
    present: StrictBool = True


class NewMeeting(BaseModel):
    """What the secretariat gives to schedule a meeting."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "body": "福岡県個人情報保護審議会第二部会", "term": "第16期", "number": 2,
        "starts_at": "2023-11-16T10:00:00+09:00", "ends_at": "2023-11-16T11:30:00+09:00",
        "venue": "県庁行政棟10階 特9会議室", "is_public": True,
        "agenda": [{"assessment_id": 1, "purpose": "third_party_review",
                    "title": "住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価書の第三者点検について"}],
    }]})

    body_id: Annotated[int, Field(ge=1, le=MAX_ID), JSON_INTEGER] | None = Field(default=None,
                                                                                 description="the body, by id …")
    body: Text200 | None = Field(default=None, description="… or by name (審議会・部会)")
    term: Text20OrEmpty = Field(default="", description="期 (e.g. 第16期); numbering restarts")
    number: Annotated[int, Field(ge=1, le=MAX_NUMBER), JSON_INTEGER] | None = Field(
        default=None, description="第N回 (default: the next one)")
    starts_at: MeetingTime
    ends_at: MeetingTime | None = None
    venue: Text200 = Field(description="開催場所")
    is_public: StrictBool = Field(default=True, description="公開 (false: 非公開, with closed_reason)")
    closed_reason: Text500 | None = Field(default=None, description="非公開の理由")
    agenda: list[AgendaItemInput] = Field(default_factory=list, max_length=50)
    materials: list[MaterialInput] = Field(default_factory=list, max_length=100)


class MeetingMove(BaseModel):
    """A new date, time or venue (the meeting's sequence goes up when any of them changes)."""

    model_config = ConfigDict(extra="forbid")

    expected_version: VersionSeen
    starts_at: MeetingTime | None = Field(default=None, description="new start (the end moves with it "
                                                                     "unless ends_at is given)")
    ends_at: MeetingTime | None = None
    venue: Text200 | None = None
    note: Text500 | None = Field(default=None, description="why it moved (kept in the audit trail)")


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: VersionSeen
    reason: Text500 = Field(description="中止の理由")


class AttendanceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: VersionSeen
    attendance: list[AttendeeInput] = Field(max_length=200)


class HeldMeeting(BaseModel):
    """The facts of a meeting that took place."""

    model_config = ConfigDict(extra="forbid")

    expected_version: VersionSeen
    observers: Annotated[int, Field(ge=0, le=10_000), JSON_INTEGER] | None = Field(default=None, description="傍聴者数")
    attendance: list[AttendeeInput] | None = Field(default=None, max_length=200,
                                                   description="出席者 (replaces any recorded before)")


class NextMeeting(BaseModel):
    """The next meeting, fixed at the end of this one: same body and term, number + 1."""

    model_config = ConfigDict(extra="forbid")

    starts_at: MeetingTime
    ends_at: MeetingTime | None = None
    venue: Text200 | None = Field(default=None, description="default: this meeting's venue")
    is_public: StrictBool | None = Field(default=None, description="default: as this meeting")
    closed_reason: Text500 | None = None
    agenda: list[AgendaItemInput] = Field(default_factory=list, max_length=50)


@dataclass(frozen=True)
class MeetingFilter:
    body_id: int | None = None
    status: MeetingStatus | None = None
    date_from: date | None = None  # Tokyo dates, both ends included
    date_to: date | None = None


# --- views --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quorum:
    """定足数: members present against the body's quorum, or a majority of its seats."""

    required: int
    present: int
    seats: int
    basis: str  # "body" (Body.quorum) | "majority"

    @property
    def met(self) -> bool:
        return self.present >= self.required


@dataclass(frozen=True)
class AgendaEntry:
    """An agenda item as one reader sees it: its case is named only to who may see that case.

    The item's title is the meeting's own public wording (it is on the convocation); the case's id
    would tell a visitor that a case exists which the policy hides from them.
    """

    id: int
    position: int
    assessment_id: int | None
    purpose: str
    title: str


@dataclass(frozen=True)
class MeetingRecord:
    """A meeting with everything that belongs to it, as one actor may see it."""

    meeting: Meeting
    body: Body
    agenda: list[AgendaEntry]
    attendance: list[Attendance]
    materials: list[Document]  # those the actor may know of
    quorum: Quorum

    @property
    def title(self) -> str:
        """第16期第2回 福岡県個人情報保護審議会第二部会."""
        return meeting_title(self.meeting.term, self.meeting.number, self.body.name)

    @property
    def allowed(self) -> list[dict[str, Any]]:
        return lifecycle.allowed(MEETING, self.meeting.status)


@dataclass(frozen=True)
class Page:
    items: Sequence[MeetingRecord]
    total: int
    limit: int
    offset: int


# --- services -----------------------------------------------------------------------------------

def schedule(db: Database, clock: Clock, data: NewMeeting, actor: Actor) -> MeetingRecord:
    """Schedule a meeting of a body, with its agenda and (optionally) the materials to hand out."""
    authorize(actor, Action.MANAGE_MEETINGS)
    _check_times(data.starts_at, data.ends_at)
    _check_public(data.is_public, data.closed_reason)
    now = clock.now()
    with db.writing(actor) as session:
        body = _lock(session, stored_id(_body(session, data)))
        number = data.number or _next_number(session, stored_id(body), data.term)
        meeting = _create(session, body, data.term, number, data.starts_at, data.ends_at, data.venue, data.is_public,
                          data.closed_reason, data.agenda, now)
        for index, material in enumerate(data.materials):
            _link_material(session, actor, meeting, material, f"materials.{index}")
        audit.record(session, audit_actor(actor), "meeting.scheduled", at=now, object_type="meeting",
                     object_id=meeting.id, detail=_facts(meeting, body) | {
                         "agenda": [item.title for item in data.agenda],
                         "materials": {m.label: m.document_id for m in data.materials}})
        return _record(session, meeting, actor)


def get_meeting(db: Database, meeting_id: int, actor: Actor) -> MeetingRecord:
    with db.reading(actor) as session:
        meeting = load(session, meeting_id)
        authorize_read(session, actor, meeting)
        return _record(session, meeting, actor)


def quorum(db: Database, meeting_id: int, actor: Actor) -> Quorum:
    return get_meeting(db, meeting_id, actor).quorum


def list_meetings(db: Database, filters: MeetingFilter, limit: int, offset: int, actor: Actor) -> Page:
    """The meetings the actor may see, earliest first."""
    conditions: list[ColumnElement[bool]] = [visible_meetings(actor)]
    if filters.body_id is not None:
        conditions.append(col(Meeting.body_id) == filters.body_id)
    if filters.status is not None:
        conditions.append(col(Meeting.status) == filters.status.value)
    if filters.date_from is not None:
        conditions.append(col(Meeting.starts_at) >= _tokyo_midnight(filters.date_from))
    if filters.date_to is not None:
        conditions.append(col(Meeting.starts_at) < _tokyo_midnight(filters.date_to + timedelta(days=1)))
    with db.reading(actor) as session:
        total = session.exec(select(func.count()).select_from(Meeting).where(*conditions)).one()
        meetings = session.exec(select(Meeting).where(*conditions)
                                .order_by(col(Meeting.starts_at), col(Meeting.id)).limit(limit).offset(offset)).all()
        return Page(items=_records(session, list(meetings), actor), total=total, limit=limit, offset=offset)


def move(db: Database, clock: Clock, meeting_id: int, change: MeetingMove, actor: Actor) -> MeetingRecord:
    """Reschedule: a new date, time or venue. The sequence goes up once per effective change."""
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _for_change(session, actor, meeting_id, change.expected_version, "move")
        starts_at = change.starts_at or meeting.starts_at
        if change.ends_at is not None:
            ends_at: datetime | None = change.ends_at
        elif meeting.ends_at is not None:
            ends_at = meeting.ends_at + (starts_at - meeting.starts_at)  # keeps the length
        else:
            ends_at = None
        _check_times(starts_at, ends_at)
        venue = change.venue or meeting.venue
        before = {"starts_at": _iso(meeting.starts_at), "ends_at": _iso(meeting.ends_at), "venue": meeting.venue}
        after = {"starts_at": _iso(starts_at), "ends_at": _iso(ends_at), "venue": venue}
        if after != before:
            meeting.starts_at, meeting.ends_at, meeting.venue = starts_at, ends_at, venue
            meeting.sequence += 1
            _touch(meeting, now)
            _flush(session)
            changed = {key: {"from": before[key], "to": after[key]} for key in before if before[key] != after[key]}
            audit.record(session, audit_actor(actor), "meeting.moved", at=now, object_type="meeting",
                         object_id=meeting.id, detail={"changed": changed, "sequence": meeting.sequence,
                                                       "version": meeting.version, "note": change.note})
            _changed(session, meeting, now)
        return _record(session, meeting, actor)


def cancel(db: Database, clock: Clock, meeting_id: int, cancellation: Cancellation, actor: Actor) -> MeetingRecord:
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _for_change(session, actor, meeting_id, cancellation.expected_version, "cancel")
        meeting.status = lifecycle.require(MEETING, "cancel", meeting.status)
        meeting.cancelled_reason = cancellation.reason
        meeting.sequence += 1
        _touch(meeting, now)
        _flush(session)
        audit.record(session, audit_actor(actor), "meeting.cancelled", at=now, object_type="meeting",
                     object_id=meeting.id, detail={"reason": cancellation.reason, "sequence": meeting.sequence,
                                                   "version": meeting.version})
        _changed(session, meeting, now)
        return _record(session, meeting, actor)


def record_held(db: Database, clock: Clock, meeting_id: int, held: HeldMeeting, actor: Actor) -> MeetingRecord:
    """The meeting took place: observers (傍聴者数) and, if given, who attended."""
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _for_change(session, actor, meeting_id, held.expected_version, "hold")
        if meeting.starts_at > now:
            raise Conflict(Message(f"この会議は{_ja_instant(meeting.starts_at)}開始の予定です。開始前に開催済みとはできません。",
                                   "The meeting has not started yet; it cannot be recorded as held."),
                           current_version=meeting.version, current_state=meeting.status,
                           allowed_events=lifecycle.allowed(MEETING, meeting.status))
        if not meeting.is_public and held.observers:
            raise InvalidInput.single("observers", "closed_meeting", "非公開の会議に傍聴者はいません。",
                                      "A closed meeting has no observers.")
        meeting.status = lifecycle.require(MEETING, "hold", meeting.status)
        meeting.observers = held.observers
        _touch(meeting, now)
        if held.attendance is not None:
            _replace_attendance(session, meeting, held.attendance)
        _flush(session)
        audit.record(session, audit_actor(actor), "meeting.held", at=now, object_type="meeting", object_id=meeting.id,
                     detail={"observers": held.observers, "version": meeting.version,
                             "attendance": _attendance_detail(held.attendance)})
        return _record(session, meeting, actor)


def set_attendance(db: Database, clock: Clock, meeting_id: int, update: AttendanceUpdate,
                   actor: Actor) -> MeetingRecord:
    """Replace the attendance (出席者): names linked to accounts when they match a member of the body."""
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _for_change(session, actor, meeting_id, update.expected_version, "record_attendance")
        _replace_attendance(session, meeting, update.attendance)
        _touch(meeting, now)
        _flush(session)
        audit.record(session, audit_actor(actor), "meeting.attendance_recorded", at=now, object_type="meeting",
                     object_id=meeting.id, detail={"attendance": _attendance_detail(update.attendance),
                                                   "version": meeting.version})
        return _record(session, meeting, actor)


def link_material(db: Database, clock: Clock, meeting_id: int, material: MaterialInput,
                  actor: Actor) -> MeetingRecord:
    """Hand out an existing document of a case on the agenda at this meeting, as 資料N."""
    now = clock.now()
    with db.writing(actor) as session:
        meeting = _for_change(session, actor, meeting_id, None, "link_material")
        document = _link_material(session, actor, meeting, material, None)
        audit.record(session, audit_actor(actor), "meeting.material_linked", at=now, object_type="meeting",
                     object_id=meeting.id, detail={**audit_reference(document), "label": document.label})
        return _record(session, meeting, actor)


def attach_material(db: Database, files: FileStore, clock: Clock, meeting_id: int, case_id: int, upload: Upload,
                    label: str, actor: Actor, max_bytes: int) -> MeetingRecord:
    """Upload a document to a case on the agenda (workflow.documents.attach) and hand it out as `label`.

    The checks that do not need the file run first, so that a refused label stores nothing; if the
    link still fails (someone took the label meanwhile) the document stays with its case, unlinked.
    """
    try:
        label = TypeAdapter(MaterialLabel).validate_python(label)
    except ValidationError as error:
        raise InvalidInput(problems_from_validation_error(error, ("label",))) from None
    with db.reading(actor) as session:
        meeting = _for_change(session, actor, meeting_id, None, "link_material", lock=False)
        if case_id not in _agenda_cases(session, stored_id(meeting)):
            raise _not_on_agenda("case_id")
        _check_label_free(session, stored_id(meeting), label, None, "label")
    document = documents.attach(db, files, clock, case_id, upload, actor, max_bytes)
    return link_material(db, clock, meeting_id, MaterialInput(document_id=document.id, label=label), actor)


def schedule_next(db: Database, clock: Clock, meeting_id: int, data: NextMeeting, actor: Actor) -> MeetingRecord:
    """Fix the next meeting at the end of this one (Fukuoka: 12月21日（木）午前10時, 特9会議室):
    number + 1 of the same body and term."""
    _check_times(data.starts_at, data.ends_at)
    now = clock.now()
    with db.writing(actor) as session:
        current = _for_change(session, actor, meeting_id, None, "schedule_next")
        is_public = current.is_public if data.is_public is None else data.is_public
        closed_reason = data.closed_reason
        if not is_public and closed_reason is None and data.is_public is None:
            closed_reason = current.closed_reason  # closed for the same reason as this one
        _check_public(is_public, closed_reason)
        body = _lock(session, current.body_id)
        meeting = _create(session, body, current.term, current.number + 1, data.starts_at, data.ends_at,
                          data.venue or current.venue, is_public, closed_reason, data.agenda, now)
        audit.record(session, audit_actor(actor), "meeting.scheduled", at=now, object_type="meeting",
                     object_id=meeting.id, detail=_facts(meeting, body) | {
                         "fixed_at_meeting_id": current.id, "agenda": [item.title for item in data.agenda]})
        return _record(session, meeting, actor)


# --- policy helpers (the rules, and visible_meetings, are in workflow.policy) ------------------

def offices_on_agenda(session: Session, meeting_id: int) -> frozenset[str]:
    return frozenset(session.exec(
        select(Assessment.office).join(AgendaItem, col(AgendaItem.assessment_id) == Assessment.id)
        .where(AgendaItem.meeting_id == meeting_id)).all())


def authorize_read(session: Session, actor: Actor, meeting: Meeting) -> None:
    """404 unless the actor may know of the meeting (closed meetings are hidden from outsiders)."""
    authorize(actor, Action.READ_MEETING, (meeting, offices_on_agenda(session, stored_id(meeting))))


def record_of(session: Session, meeting: Meeting, actor: Actor) -> MeetingRecord:
    return _record(session, meeting, actor)


# --- internals ----------------------------------------------------------------------------------

def load(session: Session, meeting_id: int, *, for_update: bool = False) -> Meeting:
    """The one meeting loader: a meeting by id, or RecordNotFound (ids beyond the column's range included)."""
    return load_row(session, Meeting, meeting_id, Record.MEETING, for_update=for_update)


def _for_change(session: Session, actor: Actor, meeting_id: int, expected_version: int | None,
                event: str, *, lock: bool = True) -> Meeting:
    """Load for `event`: hidden (404) before forbidden (403), then the version, then the status."""
    # FOR UPDATE: on PostgreSQL a concurrent change waits here and then sees the new version.
    meeting = load(session, meeting_id, for_update=lock)
    authorize_read(session, actor, meeting)
    authorize(actor, Action.MANAGE_MEETINGS, meeting)
    if expected_version is not None and meeting.version != expected_version:
        raise StaleVersion(
            Message(f"この会議は他の操作により更新されています（現在の版: {meeting.version}、送信された版: {expected_version}）。"
                    "最新の状態を読み込んでからやり直してください。",
                    f"The meeting has changed since you read it (version {meeting.version}, you sent "
                    f"{expected_version}); reload it and try again."),
            current_version=meeting.version, current_state=meeting.status,
            allowed_events=lifecycle.allowed(MEETING, meeting.status),
        )
    lifecycle.require(MEETING, event, meeting.status, version=meeting.version)
    return meeting


def _touch(meeting: Meeting, now: datetime) -> None:
    """Mark the meeting changed, so that its version goes up even when no column of its own did
    (a new attendance list) or the clock stood still."""
    meeting.updated_at = now
    flag_modified(meeting, "updated_at")


def _flush(session: Session) -> None:
    """Write now: a stale version (someone else's write got in between) or a taken 第N回 is a 409."""
    try:
        session.flush()  # UPDATE … WHERE version = :seen (the mapper's version counter)
    except StaleDataError:
        raise StaleVersion(Message("この会議は他の操作により同時に更新されました。最新の状態を読み込んでからやり直してください。",
                                   "The meeting was changed by someone else at the same moment; reload it and try "
                                   "again.")) from None
    except IntegrityError:
        raise Conflict(Message("同じ会議体・期・回の会議、または同じ氏名の出席者が既に登録されています。",
                               "A meeting of this body, term and number, or an attendee of this name, "
                               "already exists.")) from None


def _check_times(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidInput.single("ends_at", "after_start", "終了時刻は開始時刻より後にしてください。",
                                  "The meeting must end after it starts.")


def _check_public(is_public: bool, closed_reason: str | None) -> None:
    if not is_public and not closed_reason:
        raise InvalidInput.single("closed_reason", "required_when_closed",
                                  "非公開とする場合は、その理由（非公開情報・個人情報の審議等）を入力してください。",
                                  "A closed meeting needs the reason it is closed.")
    if is_public and closed_reason:
        raise InvalidInput.single("closed_reason", "only_when_closed", "公開の会議に非公開の理由は記載しません。",
                                  "A public meeting has no reason for being closed.")


def _body(session: Session, data: NewMeeting) -> Body:
    if data.body_id is not None:
        body = session.get(Body, data.body_id)
        if body is None:
            message = not_found_message(Record.BODY, data.body_id)
            raise InvalidInput.single("body_id", "exists", message.ja, message.en)
        if data.body is not None and data.body != body.name:
            raise InvalidInput.single("body", "matches_body_id", "body と body_id が別の会議体を指しています。",
                                      "body and body_id name different bodies.")
        return body
    if data.body is None:
        raise InvalidInput.single("body_id", "required", "会議体を body_id または body（名称）で指定してください。",
                                  "Name the body, by body_id or by body (its name).")
    return body_by_name(session, data.body)


def _lock(session: Session, body_id: int) -> Body:
    """Lock the body's row: two meetings scheduled at once for one body get numbers one after the other
    (on PostgreSQL; SQLite's writers are serialised anyway)."""
    return session.exec(select(Body).where(Body.id == body_id).with_for_update()).one()


def _next_number(session: Session, body_id: int, term: str) -> int:
    last = session.exec(select(func.max(Meeting.number)).where(Meeting.body_id == body_id, Meeting.term == term)).one()
    number = (last or 0) + 1
    if number > MAX_NUMBER:
        raise InvalidInput.single("number", "maximum", f"第{MAX_NUMBER}回を超える会議は登録できません（期を改めてください）。",
                                  f"No more than {MAX_NUMBER} meetings per term; start a new term.")
    return number


def _create(session: Session, body: Body, term: str, number: int, starts_at: datetime, ends_at: datetime | None,
            venue: str, is_public: bool, closed_reason: str | None, agenda: Sequence[AgendaItemInput],
            now: datetime) -> Meeting:
    if number > MAX_NUMBER:
        raise InvalidInput.single("number", "maximum", f"第{MAX_NUMBER}回を超える会議は登録できません（期を改めてください）。",
                                  f"No more than {MAX_NUMBER} meetings per term; start a new term.")
    if session.exec(select(Meeting.id).where(Meeting.body_id == body.id, Meeting.term == term,
                                             Meeting.number == number)).first() is not None:
        raise Conflict(Message(f"{term}第{number}回の{body.name}は既に登録されています。",
                               f"Meeting {number} of {body.name} ({term or 'no term'}) already exists."))
    problems = _agenda_problems(session, agenda)
    if problems:
        raise InvalidInput(problems)
    meeting = Meeting(body_id=stored_id(body), term=term, number=number, starts_at=starts_at, ends_at=ends_at,
                      venue=venue, is_public=is_public, closed_reason=closed_reason if not is_public else None,
                      status=MeetingStatus.SCHEDULED.value, created_at=now, updated_at=now)
    session.add(meeting)
    _flush(session)
    for index, item in enumerate(agenda):
        session.add(AgendaItem(meeting_id=stored_id(meeting), position=item.position or index + 1,
                               assessment_id=item.assessment_id, purpose=item.purpose.value, title=item.title))
    _flush(session)
    _changed(session, meeting, now)
    return meeting


def _changed(session: Session, meeting: Meeting, now: datetime) -> None:
    """Scheduled, moved or cancelled: recorded as a change, which the members' reminders follow after
    the commit (re-timed, or withdrawn with a notice to those already reminded)."""
    changes.record(session, changes.Subject.MEETING, stored_id(meeting), now)


def _agenda_problems(session: Session, agenda: Sequence[AgendaItemInput]) -> list[FieldProblem]:
    problems = []
    positions: set[int] = set()
    for index, item in enumerate(agenda):
        if item.assessment_id is not None and session.get(Assessment, item.assessment_id) is None:
            problems.append(FieldProblem(f"agenda.{index}.assessment_id", "exists",
                                         not_found_message(Record.CASE, item.assessment_id)))
        position = item.position or index + 1
        if position in positions:
            problems.append(FieldProblem(f"agenda.{index}.position", "unique",
                                         Message("議題の順番が重複しています。", "Two agenda items have the same position.")))
        positions.add(position)
    return problems


def _agenda_cases(session: Session, meeting_id: int) -> set[int]:
    return {case_id for case_id in session.exec(
        select(AgendaItem.assessment_id).where(AgendaItem.meeting_id == meeting_id)).all() if case_id is not None}


def _not_on_agenda(field: str) -> InvalidInput:
    return InvalidInput.single(field, "case_on_agenda", "この会議の議題に含まれる案件の資料のみ配付できます。",
                               "Only documents of the cases on this meeting's agenda can be handed out.")


def _check_label_free(session: Session, meeting_id: int, label: str, document_id: int | None, field: str) -> None:
    taken = session.exec(select(Document.id).where(Document.meeting_id == meeting_id, Document.label == label)).first()
    if taken is not None and taken != document_id:
        raise InvalidInput.single(field, "unique_label", f"この会議の{label}は既に登録されています。",
                                  f"This meeting already has a {label}.")


def _link_material(session: Session, actor: Actor, meeting: Meeting, material: MaterialInput,
                   prefix: str | None) -> Document:
    def field(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    document = session.get(Document, material.document_id)
    case = session.get(Assessment, document.assessment_id) if document is not None else None
    if document is None or case is None or not can_know_document(actor, case, document):
        message = not_found_message(Record.DOCUMENT, material.document_id)  # hidden or missing: the same words
        raise InvalidInput.single(field("document_id"), "exists", message.ja, message.en)
    if document.assessment_id not in _agenda_cases(session, stored_id(meeting)):
        raise _not_on_agenda(field("document_id"))
    if document.purged_at is not None:
        raise InvalidInput.single(field("document_id"), "not_purged", "点検終了後に削除された資料は配付できません。",
                                  "A document deleted after the review cannot be handed out.")
    if document.meeting_id is not None and document.meeting_id != meeting.id:
        raise Conflict(Message(f"この資料は別の会議（ID {document.meeting_id}）で{document.label}として配付済みです。",
                               f"This document was handed out at another meeting (id {document.meeting_id}) "
                               f"as {document.label}."))
    _check_label_free(session, stored_id(meeting), material.label, document.id, field("label"))
    document.meeting_id, document.label = meeting.id, material.label
    session.add(document)
    _flush(session)
    return document


_TITLES = ("部会長", "副会長", "会長", "職務代理者", "委員")


def normalised_name(name: str) -> str:
    """小林　登 部会長 → 小林登: width, spaces and a trailing title do not tell people apart."""
    text = "".join(unicodedata.normalize("NFKC", name).split())
    for title in _TITLES:
        if text.endswith(title) and len(text) > len(title):
            return text[: -len(title)]
    return text


def _members_by_name(session: Session, body_id: int) -> dict[str, int | None]:
    """normalised display name → user id of the body's members (None when two share a name)."""
    found: dict[str, int | None] = {}
    for user_id, display_name in session.exec(
            select(UserAccount.id, UserAccount.display_name)
            .join(Membership, col(Membership.user_id) == UserAccount.id).where(Membership.body_id == body_id)).all():
        key = normalised_name(display_name)
        found[key] = None if key in found else user_id
    return found


def _replace_attendance(session: Session, meeting: Meeting, attendees: Sequence[AttendeeInput]) -> None:
    seen: dict[str, int] = {}
    problems = []
    for index, attendee in enumerate(attendees):
        key = normalised_name(attendee.name)
        if key in seen:
            problems.append(FieldProblem(f"attendance.{index}.name", "unique",
                                         Message(f"{attendee.name} が重複しています。", f"{attendee.name} is listed twice.")))
        seen[key] = index
    if problems:
        raise InvalidInput(problems)
    for row in session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)).all():
        session.delete(row)
    session.flush()  # the unit of work inserts before it deletes: the old names must go first
    members = _members_by_name(session, meeting.body_id)
    for attendee in attendees:
        session.add(Attendance(meeting_id=stored_id(meeting), user_id=members.get(normalised_name(attendee.name)),
                               name=attendee.name, role=attendee.role.value, present=attendee.present))


def _attendance_detail(attendees: Sequence[AttendeeInput] | None) -> list[dict[str, Any]] | None:
    if attendees is None:
        return None
    return [{"name": a.name, "role": a.role.value, "present": a.present} for a in attendees]


def _records(session: Session, meetings: list[Meeting], actor: Actor) -> list[MeetingRecord]:
    """The records of several meetings with a fixed number of queries."""
    if not meetings:
        return []
    ids = [stored_id(meeting) for meeting in meetings]
    items = session.exec(select(AgendaItem).where(col(AgendaItem.meeting_id).in_(ids))
                         .order_by(col(AgendaItem.position), col(AgendaItem.id))).all()
    attendance: dict[int, list[Attendance]] = defaultdict(list)
    for row in session.exec(select(Attendance).where(col(Attendance.meeting_id).in_(ids))
                            .order_by(col(Attendance.id))).all():
        attendance[row.meeting_id].append(row)
    materials: dict[int, list[Document]] = defaultdict(list)
    documents_ = session.exec(select(Document).where(col(Document.meeting_id).in_(ids))).all()
    case_ids = ({d.assessment_id for d in documents_} | {item.assessment_id for item in items}) - {None}
    cases = {case.id: case for case in session.exec(select(Assessment).where(
        col(Assessment.id).in_(case_ids))).all()} if case_ids else {}
    agenda: dict[int, list[AgendaEntry]] = defaultdict(list)
    for item in items:
        case = cases.get(item.assessment_id) if item.assessment_id is not None else None
        agenda[item.meeting_id].append(AgendaEntry(
            id=stored_id(item), position=item.position, purpose=item.purpose, title=item.title,
            assessment_id=item.assessment_id if case is not None and can_see_case(actor, case) else None))
    for document in sorted(documents_, key=lambda d: documents.material_order(d.label)):
        # (every one has a meeting: the query asks for those of these meetings)
        if document.meeting_id is not None and can_know_document(actor, cases[document.assessment_id], document):
            materials[document.meeting_id].append(document)
    body_ids = {meeting.body_id for meeting in meetings}
    bodies = {stored_id(body): body for body in session.exec(select(Body).where(col(Body.id).in_(body_ids))).all()}
    seats = dict(session.exec(select(Membership.body_id, func.count()).where(col(Membership.body_id).in_(body_ids))
                              .group_by(col(Membership.body_id))).all())
    return [
        MeetingRecord(meeting=meeting, body=bodies[meeting.body_id], agenda=agenda[meeting_id],
                      attendance=attendance[meeting_id], materials=materials[meeting_id],
                      quorum=_quorum(bodies[meeting.body_id], seats.get(meeting.body_id, 0), attendance[meeting_id]))
        for meeting, meeting_id in zip(meetings, ids, strict=True)
    ]


def _record(session: Session, meeting: Meeting, actor: Actor) -> MeetingRecord:
    session.flush()
    return _records(session, [meeting], actor)[0]


def _quorum(body: Body, seats: int, attendance: Iterable[Attendance]) -> Quorum:
    present = sum(1 for row in attendance if row.present and row.role in QUORUM_ROLES)
    if body.quorum is not None:
        return Quorum(required=body.quorum, present=present, seats=seats, basis="body")
    return Quorum(required=seats // 2 + 1, present=present, seats=seats, basis="majority")


def _tokyo_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TOKYO)


def _iso(instant: datetime | None) -> str | None:
    return instant.astimezone(TOKYO).isoformat() if instant is not None else None


def _ja_instant(instant: datetime) -> str:

    return wareki_datetime(instant)


def _facts(meeting: Meeting, body: Body) -> dict[str, Any]:
    return {"body": body.name, "term": meeting.term, "number": meeting.number, "starts_at": _iso(meeting.starts_at),
            "ends_at": _iso(meeting.ends_at), "venue": meeting.venue, "is_public": meeting.is_public,
            "closed_reason": meeting.closed_reason}

