"""The subcommittee's opinion (部会の意見), its report to the plenary (部会報告) and the council's
reply (答申): drafted from the record, possibly delegated to the chair (会長一任), then adopted
(states/lifecycles/resolution.yaml, run by workflow.lifecycle).

The lifecycle's guards read these: reporting to the plenary needs an adopted subcommittee report;
publishing a full assessment, or answering a consultation, needs an adopted reply.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from workflow import audit, cases, lifecycle
from workflow.accounts import audit_actor
from workflow.clock import Clock
from workflow.columns import MAX_ID, load_row, stored_id
from workflow.db import Database
from workflow.errors import Conflict, InvalidInput, Message, Record, RecordNotFound, not_found_message
from workflow.lifecycle import RESOLUTION
from workflow.models import Assessment, Body
from workflow.policy import Action, Actor, authorize
from workflow.records import Meeting, Opinion, Resolution
from workflow.validation import JSON_INTEGER, RecordDate, Text2000


class Verdict(StrEnum):
    APPROPRIATE = "appropriate"                                  #: 妥当
    APPROPRIATE_WITH_CONDITIONS = "appropriate_with_conditions"  #: 条件付きで妥当
    NO_PARTICULAR_PROBLEM = "no_particular_problem"              #: 特段の支障なし
    INAPPROPRIATE = "inappropriate"                              #: 不適当


VERDICT_TEXT = {
    Verdict.APPROPRIATE: ("現段階における評価としては妥当である。", "The assessment is appropriate at this stage."),
    Verdict.APPROPRIATE_WITH_CONDITIONS: ("次の条件を付して妥当である。", "Appropriate, on the following conditions."),
    Verdict.NO_PARTICULAR_PROBLEM: ("特段の支障がないと考える。", "We see no particular problem."),
    Verdict.INAPPROPRIATE: ("不適当である。", "Not appropriate."),
}


class ResolutionKind(StrEnum):
    SUBCOMMITTEE_REPORT = "subcommittee_report"  #: 部会報告
    REPLY = "reply"                              #: 答申


KIND_TITLE = {ResolutionKind.SUBCOMMITTEE_REPORT: "部会報告", ResolutionKind.REPLY: "答申"}


class ResolutionStatus(StrEnum):
    """The statuses of states/lifecycles/resolution.yaml (会長一任 is optional: a draft may be adopted directly)."""

    DRAFT = "draft"          #: 案
    DELEGATED = "delegated"  #: 会長一任
    ADOPTED = "adopted"      #: 確定


class OpinionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    conditions: Annotated[list[Text2000], Field(max_length=50)] = []
    supplementary: Annotated[list[Text2000], Field(max_length=50)] = []
    decided_on: RecordDate
    meeting_id: Annotated[int, Field(ge=1, le=MAX_ID), JSON_INTEGER] | None = None




def _reviewing_body(session: Session, case: Assessment) -> Body:
    body = session.get(Body, case.body_id) if case.body_id else None
    if body is None:
        raise InvalidInput.single("body", "reviewing_body", "この案件には審議する会議体が設定されていません。",
                                  "The case has no reviewing body.")
    return body


def council_of(session: Session, body: Body) -> Body:
    """The plenary council a subcommittee belongs to (a council is its own)."""
    if not body.parent_id:
        return body
    council = session.get(Body, body.parent_id)
    if council is None:  # the foreign key keeps it
        raise LookupError(f"body {body.id}: its council {body.parent_id} is missing")
    return council


def record_opinion(db: Database, clock: Clock, case_id: int, data: OpinionInput, actor: Actor) -> Opinion:
    """Record (or replace, until a report is adopted) the reviewing body's opinion for this cycle."""
    if data.verdict is Verdict.APPROPRIATE_WITH_CONDITIONS and not data.conditions:
        raise InvalidInput.single("conditions", "required_for_verdict", "条件付きで妥当とする場合は条件を記載してください。",
                                  "An appropriate-with-conditions verdict needs its conditions.")
    with db.writing(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.RECORD_DELIBERATION, case)
        body = _reviewing_body(session, case)
        if data.meeting_id is not None and session.get(Meeting, data.meeting_id) is None:
            message = not_found_message(Record.MEETING, data.meeting_id)  # (not left to the foreign key: a 500)
            raise InvalidInput.single("meeting_id", "exists", message.ja, message.en)
        if _adopted(session, case, ResolutionKind.SUBCOMMITTEE_REPORT):
            raise Conflict(Message("部会報告が確定しているため、部会の意見は変更できません。",
                                   "The subcommittee report is adopted; its opinion can no longer change."))
        opinion = session.exec(select(Opinion).where(
            Opinion.assessment_id == case.id, Opinion.cycle == case.cycle, Opinion.body_id == body.id)).first()
        opinion = opinion or Opinion(assessment_id=stored_id(case), cycle=case.cycle, body_id=stored_id(body),
                                     verdict="", decided_on=data.decided_on, created_at=clock.now())
        opinion.verdict = data.verdict.value
        opinion.conditions, opinion.supplementary = list(data.conditions), list(data.supplementary)
        opinion.decided_on, opinion.decided_at_meeting_id = data.decided_on, data.meeting_id
        session.add(opinion)
        session.flush()
        audit.record(session, audit_actor(actor), "opinion.recorded", at=clock.now(), object_type="assessment",
                     object_id=case.id, detail={"verdict": opinion.verdict, "cycle": case.cycle})
    return opinion


def opinion_of(session: Session, case: Assessment) -> Opinion | None:
    return session.exec(select(Opinion).where(Opinion.assessment_id == case.id, Opinion.cycle == case.cycle)
                        .order_by(col(Opinion.id).desc())).first()


def _adopted(session: Session, case: Assessment, kind: ResolutionKind) -> Resolution | None:
    return session.exec(select(Resolution).where(
        Resolution.assessment_id == case.id, Resolution.cycle == case.cycle, Resolution.kind == kind.value,
        Resolution.status == ResolutionStatus.ADOPTED.value)).first()


def is_adopted(session: Session, case: Assessment, kind: ResolutionKind) -> bool:
    return _adopted(session, case, kind) is not None


def draft(db: Database, clock: Clock, case_id: int, kind: ResolutionKind, actor: Actor, *, text: str,
          title: str | None = None) -> Resolution:
    """Start (or redraft) the report or reply of this cycle; `text` is usually generated from the record."""
    with db.writing(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.RECORD_DELIBERATION, case)
        body = _reviewing_body(session, case)
        if kind is ResolutionKind.REPLY:
            body = council_of(session, body)
        resolution = session.exec(select(Resolution).where(
            Resolution.assessment_id == case.id, Resolution.cycle == case.cycle, Resolution.kind == kind.value)).first()
        # A redraft replaces the text until the report or reply is adopted (a delegated one is a draft again).
        status = (RESOLUTION.initial if resolution is None
                  else lifecycle.require(RESOLUTION, "redraft", resolution.status))
        now = clock.now()
        resolution = resolution or Resolution(assessment_id=stored_id(case), cycle=case.cycle, kind=kind.value,
                                              body_id=stored_id(body), title="", text="", created_at=now,
                                              updated_at=now)
        resolution.title = title or f"{case.title}について（{KIND_TITLE[kind]}）"
        resolution.text, resolution.status, resolution.updated_at = text, status, now
        resolution.delegated_to = None  # a new text is the body's to leave to the chair again, or not
        session.add(resolution)
        session.flush()
        audit.record(session, audit_actor(actor), f"{kind.value}.drafted", at=now, object_type="resolution",
                     object_id=resolution.id, detail={"assessment_id": case.id, "cycle": case.cycle})
    return resolution


def _fire(db: Database, clock: Clock, resolution_id: int, actor: Actor, event: str, **changes: object) -> Resolution:
    with db.writing(actor) as session:
        resolution = load_row(session, Resolution, resolution_id, Record.RESOLUTION)
        # One of a case the actor may not know of is not there: the words of a missing report or reply.
        authorize(actor, Action.RECORD_DELIBERATION, cases.load(session, resolution.assessment_id),
                  hidden=RecordNotFound(Record.RESOLUTION, resolution_id))
        to = lifecycle.require(RESOLUTION, event, resolution.status)
        for name, value in changes.items():
            setattr(resolution, name, value)
        resolution.status, resolution.updated_at = to, clock.now()
        session.add(resolution)
        audit.record(session, audit_actor(actor), f"{resolution.kind}.{to}", at=clock.now(), object_type="resolution",
                     object_id=resolution.id, detail={k: str(v) for k, v in changes.items()})
    return resolution


def delegate_to_chair(db: Database, clock: Clock, resolution_id: int, chair: str, actor: Actor) -> Resolution:
    """会長一任: the body leaves the final wording to its chair."""
    return _fire(db, clock, resolution_id, actor, "delegate", delegated_to=chair)


def adopt(db: Database, clock: Clock, resolution_id: int, adopted_on: date, adopted_by: str,
          actor: Actor) -> Resolution:
    return _fire(db, clock, resolution_id, actor, "adopt", adopted_on=adopted_on, adopted_by=adopted_by)


def resolutions_of(db: Database, case_id: int, actor: Actor) -> list[Resolution]:
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_RECORDS, case)
        return list(session.exec(select(Resolution).where(Resolution.assessment_id == case.id)
                                 .order_by(col(Resolution.cycle), col(Resolution.kind))).all())
