"""The findings ledger (委員からの質問事項・意見): raised, answered by the office, closed, carried.

A finding is raised by a member — in writing by the member, or at a meeting and recorded by the
secretariat under the member's name (櫻井委員, 小林部会長). The office answers it (実施機関の回答),
usually at the next meeting; the secretariat closes it, carries it to a later meeting (持ち越し) or
reopens it. The statuses and events are data (states/lifecycles/finding.yaml, run by
workflow.lifecycle); an event in a status it is not possible in is a Conflict (409) listing the
events possible now.

`open_findings` is the material "委員からの質問事項" of the next meeting: the findings of the case's
current cycle that are still open work (open, answered but not closed, carried), oldest first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from states import Text
from workflow import audit, cases, changes, lifecycle
from workflow.accounts import audit_actor
from workflow.clock import TOKYO, Clock, local_today
from workflow.columns import MAX_ID, load_row, stored_id
from workflow.dates import english_date, wareki
from workflow.db import Database
from workflow.errors import FieldProblem, InvalidInput, Message, Record, RecordNotFound, not_found_message
from workflow.lifecycle import FINDING
from workflow.meetings import offices_on_agenda
from workflow.models import Assessment, Body
from workflow.policy import Action, Actor, Decision, authorize, can_see_meeting, decide, records_for_members
from workflow.records import Finding, Meeting, ReportVersion
from workflow.validation import JSON_INTEGER, RecordDate, Text200, Text2000, Text10000

RowId = Annotated[int, Field(ge=1, le=MAX_ID), JSON_INTEGER]
MAX_CYCLE = 10_000


class FindingKind(StrEnum):
    QUESTION = "question"  #: 質問
    OPINION = "opinion"    #: 意見
    REQUEST = "request"    #: 要望・依頼


class FindingStatus(StrEnum):
    OPEN = "open"          #: 未回答
    ANSWERED = "answered"  #: 回答済（未終了）
    CLOSED = "closed"      #: 終了
    CARRIED = "carried"    #: 次回へ持ち越し

    @property
    def title(self) -> Text:  # type: ignore[override]  # the status's name replaces str.title on purpose
        return FINDING.status_title(self.value)


#: Still open work: what the next meeting's 質問事項 lists.
OUTSTANDING = frozenset({FindingStatus.OPEN, FindingStatus.ANSWERED, FindingStatus.CARRIED})


#: Who may fire each event (workflow.policy): the office answers; the secretariat carries, closes, reopens.
EVENT_ACTIONS: dict[str, Action] = {
    "answer": Action.ANSWER_FINDING,
    "carry": Action.RECORD_DELIBERATION,
    "close": Action.RECORD_DELIBERATION,
    "reopen": Action.RECORD_DELIBERATION,
}


# --- inputs -------------------------------------------------------------------------------------

class NewFinding(BaseModel):
    """A member's question, opinion or request on a case."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "raised_by": "山元委員", "raised_on": "2023-10-19", "meeting_id": 1, "kind": "question",
        "section": "Ⅱ 特定個人情報ファイルの概要 6. 特定個人情報の保管・消去 ①保管場所",
        "text": "「IDと生体認証(又はパスワード)による認証が必要となる」とあるが、生体認証とパスワードでは"
                "セキュリティレベルが異なるため、記載に違和感がある。",
    }]})

    raised_by: Text200 | None = Field(
        default=None, description="発言した委員（例: 櫻井委員）。事務局が会議での発言を登録するときに指定する。"
                                  "委員が書面で登録するときは省略（本人の氏名になる）")
    raised_on: RecordDate | None = Field(default=None, description="提出日・発言日（省略時は会議の日、書面なら今日）")
    meeting_id: RowId | None = Field(default=None, description="発言した会議（書面による場合は省略）")
    kind: FindingKind = Field(default=FindingKind.QUESTION, description="question | opinion | request")
    section: Text200 | None = Field(default=None, description="該当箇所（例: Ⅲ リスク対策 / 評価書 p.36）")
    text: Text10000 = Field(description="質問・意見の内容")


class FindingAnswer(BaseModel):
    """The office's answer (実施機関の回答)."""

    model_config = ConfigDict(extra="forbid")

    answer: Text10000 = Field(description="回答")
    answered_on: RecordDate | None = Field(default=None, description="回答日（省略時は回答した会議の日、書面なら今日）")
    answered_at_meeting_id: RowId | None = Field(default=None, description="回答した会議（書面回答なら省略）")
    resolved_in_version_id: RowId | None = Field(default=None, description="修正を反映した評価書の版")


class FindingClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolved_in_version_id: RowId | None = Field(default=None, description="修正を反映した評価書の版")
    note: Text2000 | None = Field(default=None, description="終了の理由・メモ（監査記録に残る）")


class FindingCarry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carried_to_meeting_id: RowId = Field(description="持ち越し先の会議")
    note: Text2000 | None = None


class FindingReopen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text2000 = Field(description="再開の理由")


# --- shared helpers (also used by report_versions and public_comments) ---------------------------



def not_future(field: str, day: date, today: date) -> None:
    if day > today:
        raise InvalidInput.single(field, "not_future", f"未来の日付（{wareki(day)}）は指定できません。",
                                  f"The date cannot be in the future ({english_date(day)}).")


def not_of_this_case(session: Session, actor: Actor, field: str, record: Record, record_id: int,
                     owner_id: int | None, message: Message) -> FieldProblem:
    """Why an id a field names is not a record of this case: `same_case` (with `message`) when it is one
    of another case whose records the actor may read; otherwise `exists`, in the words of a record that
    is not there (workflow.errors.not_found_message) — a hidden record is not told from a missing one."""
    owner = session.get(Assessment, owner_id) if owner_id is not None else None
    if owner is not None and decide(actor, Action.READ_RECORDS, owner) is Decision.ALLOW:
        return FieldProblem(field, "same_case", message)
    return FieldProblem(field, "exists", not_found_message(record, record_id))


def version_of_case(session: Session, actor: Actor, case: Assessment, version_id: int, field: str) -> ReportVersion:
    version = session.get(ReportVersion, version_id) if 0 < version_id <= MAX_ID else None
    if version is None or version.assessment_id != case.id:
        raise InvalidInput([not_of_this_case(
            session, actor, field, Record.REPORT_VERSION, version_id, version.assessment_id if version else None,
            Message(f"この案件の評価書の版（ID {version_id}）ではありません。",
                    f"Version {version_id} is not a report version of this case."))])
    return version


def _related_bodies(session: Session, case: Assessment) -> set[int]:
    """The reviewing body, the council it belongs to, and its subcommittees: where the case is discussed."""
    body = session.get(Body, case.body_id) if case.body_id else None
    if body is None:
        return set()
    related = {stored_id(body)}
    if body.parent_id:
        related.add(body.parent_id)
    subcommittees = session.exec(select(Body.id).where(Body.parent_id == body.id)).all()
    related.update(body_id for body_id in subcommittees if body_id is not None)  # a key: never NULL
    return related


def meeting_of_case(session: Session, actor: Actor, case: Assessment, meeting_id: int, field: str) -> Meeting:
    """The meeting a field names, of the body that reviews the case. One the actor may not know of (a
    closed meeting of another body) is refused in the words of one that is not there."""
    meeting = session.get(Meeting, meeting_id) if 0 < meeting_id <= MAX_ID else None
    if meeting is None or not can_see_meeting(actor, meeting, offices_on_agenda(session, meeting_id)):
        message = not_found_message(Record.MEETING, meeting_id)
        raise InvalidInput.single(field, "exists", message.ja, message.en)
    bodies = _related_bodies(session, case)
    if bodies and meeting.body_id not in bodies:
        raise InvalidInput.single(field, "reviewing_body", "この案件を審議する会議体の会議ではありません。",
                                  "The meeting is not one of the body that reviews this case.")
    if meeting.status == "cancelled":
        raise InvalidInput.single(field, "not_cancelled", "中止された会議は指定できません。",
                                  "The meeting was cancelled.")
    return meeting


def meeting_day(meeting: Meeting) -> date:
    """The meeting's date where the council sits (Asia/Tokyo)."""
    return meeting.starts_at.astimezone(TOKYO).date()


# --- services -----------------------------------------------------------------------------------

def raise_finding(db: Database, clock: Clock, case_id: int, data: NewFinding, actor: Actor) -> Finding:
    """Record a finding: the secretariat names the member; a member raises one in writing in their own name."""
    now, today = clock.now(), local_today(clock)
    with db.writing(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.RECORD_FINDING, case)
        if records_for_members(actor):
            if not data.raised_by:
                raise InvalidInput.single("raised_by", "required", "発言した委員の氏名を入力してください（例: 櫻井委員）。",
                                          "Name the member who raised it.")
            raised_by, raised_by_user_id = data.raised_by, None
        else:
            if data.raised_by and data.raised_by != actor.label:
                raise InvalidInput.single("raised_by", "own_name", "委員は本人の名前でのみ登録できます（省略してください）。",
                                          "A member raises findings in their own name only (leave raised_by out).")
            if data.meeting_id is not None:
                raise InvalidInput.single("meeting_id", "in_writing",
                                          "会議での発言は事務局が登録します。委員は書面による質問・意見を登録できます。",
                                          "The secretariat records what was said at meetings; members raise findings "
                                          "in writing.")
            raised_by, raised_by_user_id = actor.label, actor.user_id
        meeting = meeting_of_case(session, actor, case, data.meeting_id, "meeting_id") if data.meeting_id else None
        raised_on = data.raised_on or (meeting_day(meeting) if meeting else today)
        not_future("raised_on", raised_on, today)
        finding = Finding(
            assessment_id=stored_id(case), cycle=case.cycle, meeting_id=data.meeting_id, raised_by=raised_by,
            raised_by_user_id=raised_by_user_id, raised_on=raised_on, kind=data.kind.value, section=data.section,
            text=data.text, status=FINDING.initial, created_at=now, updated_at=now,
        )
        session.add(finding)
        session.flush()
        audit.record(session, audit_actor(actor), "finding.raised", at=now, object_type="finding",
                     object_id=finding.id, detail={"assessment_id": case.id, "cycle": case.cycle,
                                                   "raised_by": raised_by, "kind": finding.kind,
                                                   "meeting_id": finding.meeting_id})
        _changed(session, finding, now)
    return finding


def _changed(session: Session, finding: Finding, now: datetime) -> None:
    """Raised, answered, carried or closed: recorded as a change, which the office's reminder of an
    unanswered question follows after the commit."""
    changes.record(session, changes.Subject.FINDING, stored_id(finding), now)


#: What an event does with its inputs: checks them, changes the finding, and returns details for the audit trail.
Apply = Callable[[Session, Assessment, Finding, date], dict[str, Any]]


def _fire(db: Database, clock: Clock, finding_id: int, event: str, actor: Actor, apply: Apply) -> Finding:
    """Fire `event` on the finding: authorize, check the status, apply the inputs, audit."""
    now, today = clock.now(), local_today(clock)
    with db.writing(actor) as session:
        finding = load_row(session, Finding, finding_id, Record.FINDING, for_update=True)
        case = cases.load(session, finding.assessment_id)
        # A finding of a case the actor may not know of is not there: the words of a missing finding.
        authorize(actor, EVENT_ACTIONS[event], case, hidden=RecordNotFound(Record.FINDING, finding_id))
        status = finding.status
        target = lifecycle.require(FINDING, event, status)
        detail = apply(session, case, finding, today)
        finding.status = target
        finding.updated_at = now
        session.add(finding)
        session.flush()
        audit.record(session, audit_actor(actor), f"finding.{_PAST[event]}", at=now, object_type="finding",
                     object_id=finding.id, detail={"assessment_id": case.id, "from": status, "to": target, **detail})
        _changed(session, finding, now)
    return finding


_PAST = {"answer": "answered", "carry": "carried", "close": "closed", "reopen": "reopened"}


def answer_finding(db: Database, clock: Clock, finding_id: int, data: FindingAnswer, actor: Actor) -> Finding:
    """The office's answer (or the secretariat recording the answer given at a meeting) → answered."""

    def apply(session: Session, case: Assessment, finding: Finding, today: date) -> dict[str, Any]:
        meeting = (meeting_of_case(session, actor, case, data.answered_at_meeting_id, "answered_at_meeting_id")
                   if data.answered_at_meeting_id else None)
        answered_on = data.answered_on or (meeting_day(meeting) if meeting else today)
        not_future("answered_on", answered_on, today)
        if answered_on < finding.raised_on:
            raise InvalidInput.single("answered_on", "not_before_raised",
                                      f"回答日は質問・意見の日（{wareki(finding.raised_on)}）以降としてください。",
                                      f"The answer cannot come before the finding ({english_date(finding.raised_on)}).")
        if data.resolved_in_version_id is not None:
            version_of_case(session, actor, case, data.resolved_in_version_id, "resolved_in_version_id")
            finding.resolved_in_version_id = data.resolved_in_version_id
        finding.answer, finding.answered_on = data.answer, answered_on
        finding.answered_at_meeting_id = data.answered_at_meeting_id
        return {"answered_on": answered_on.isoformat(), "meeting_id": data.answered_at_meeting_id,
                "resolved_in_version_id": finding.resolved_in_version_id}

    return _fire(db, clock, finding_id, "answer", actor, apply)


def close_finding(db: Database, clock: Clock, finding_id: int, data: FindingClose, actor: Actor) -> Finding:
    """The secretariat closes a finding that needs nothing more → closed."""

    def apply(session: Session, case: Assessment, finding: Finding, _today: date) -> dict[str, Any]:
        if data.resolved_in_version_id is not None:
            version_of_case(session, actor, case, data.resolved_in_version_id, "resolved_in_version_id")
            finding.resolved_in_version_id = data.resolved_in_version_id
        return {"resolved_in_version_id": finding.resolved_in_version_id, "note": data.note}

    return _fire(db, clock, finding_id, "close", actor, apply)


def carry_finding(db: Database, clock: Clock, finding_id: int, data: FindingCarry, actor: Actor) -> Finding:
    """Carry the finding to a later meeting (持ち越し) → carried: still open work."""

    def apply(session: Session, case: Assessment, finding: Finding, _today: date) -> dict[str, Any]:
        meeting_of_case(session, actor, case, data.carried_to_meeting_id, "carried_to_meeting_id")
        finding.carried_to_meeting_id = data.carried_to_meeting_id
        return {"carried_to_meeting_id": data.carried_to_meeting_id, "note": data.note}

    return _fire(db, clock, finding_id, "carry", actor, apply)


def reopen_finding(db: Database, clock: Clock, finding_id: int, data: FindingReopen, actor: Actor) -> Finding:
    """Reopen an answered or closed finding → open. The earlier answer stays until a new one replaces it;
    the report version it was resolved in does not (the 質問事項 would still say 第N版で修正)."""

    def apply(_session: Session, _case: Assessment, finding: Finding, _today: date) -> dict[str, Any]:
        was_resolved_in, finding.resolved_in_version_id = finding.resolved_in_version_id, None
        return {"reason": data.reason, "was_resolved_in_version_id": was_resolved_in}

    return _fire(db, clock, finding_id, "reopen", actor, apply)


def list_findings(db: Database, case_id: int, actor: Actor, *, status: FindingStatus | None = None,
                  cycle: int | None = None) -> list[Finding]:
    """The case's findings of one cycle (the current one unless given), in the order they were raised."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_RECORDS, case)
        conditions = [Finding.assessment_id == case.id, Finding.cycle == (cycle or case.cycle)]
        if status is not None:
            conditions.append(Finding.status == status.value)
        return list(session.exec(select(Finding).where(*conditions)
                                 .order_by(col(Finding.raised_on), col(Finding.id))).all())


def open_findings(db: Database, case_id: int, actor: Actor) -> list[Finding]:
    """委員からの質問事項: the current cycle's findings still open, answered or carried, oldest first."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_RECORDS, case)
        return list(session.exec(
            select(Finding).where(Finding.assessment_id == case.id, Finding.cycle == case.cycle,
                                  col(Finding.status).in_([status.value for status in OUTSTANDING]))
            .order_by(col(Finding.raised_on), col(Finding.id))
        ).all())
