"""Services over assessments: create, read, and advance through the procedure.

Each write is one database transaction: the case row (compare-and-swap on its version) and its
history entry are committed together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import func, insert, update
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from states.definition import EventSpec, Procedure
from workflow import audit, cases
from workflow.accounts import audit_actor, body_by_name
from workflow.clock import Clock, local_today
from workflow.columns import table_of
from workflow.db import Database
from workflow.engine import CaseAdvanced, Workflows
from workflow.errors import EventNotAllowed, InvalidInput, Message, StaleVersion
from workflow.files import FileStore
from workflow.guards import TransitionContext
from workflow.models import Assessment, HistoryEntry
from workflow.organisations import EVERY_ORGANISATION, organisation_coded
from workflow.policy import Action, Actor, authorize, visible_cases
from workflow.threshold import Level, judge
from workflow.validation import JSON_INTEGER, RecordDate, Text100, Text200, Text2000, validate

log = logging.getLogger("shingi.service")

MAX_TARGET_COUNT = 200_000_000  # more than everyone in Japan: anything above is a typing mistake
MAX_HANDLER_COUNT = 10_000_000


class NewAssessment(BaseModel):
    """What the secretariat gives to open an assessment: the 事務 and the しきい値判断 inputs."""

    model_config = ConfigDict(extra="forbid")

    title: Text200 = Field(description="評価の対象となる事務の名称 (name of the work assessed)")
    office: Text100 = Field(description="実施機関・担当課 (the office that does the work)")
    target_count: Annotated[int, Field(ge=0, le=MAX_TARGET_COUNT, description="対象人数"), JSON_INTEGER]
    handler_count: Annotated[int, Field(ge=0, le=MAX_HANDLER_COUNT, description="取扱者数"), JSON_INTEGER]
    serious_incident: StrictBool = Field(description="過去1年以内の重大事故の有無")
    voluntary_level: Literal["basic", "focused", "full"] | None = Field(
        default=None, description="任意で実施するより詳細な評価 (a fuller level chosen voluntarily)")
    planned_holding_date: RecordDate | None = Field(default=None, description="保有予定日")
    body: Text200 | None = Field(
        default=None, description="第三者点検を行う会議体（審議会・部会）の名称 (the reviewing body)")


class NewConsultation(BaseModel):
    """諮問: a consultation other than an assessment (online coupling, re-outsourcing, an ordinance …)."""

    model_config = ConfigDict(extra="forbid")

    title: Text200 = Field(description="諮問事項 (what the council is consulted on)")
    office: Text100 = Field(description="諮問実施機関・担当課")
    consultation_type: Literal["online_coupling", "re_outsourcing", "ordinance_amendment", "other"] = Field(
        description="online_coupling (オンライン結合) | re_outsourcing (再委託) | ordinance_amendment (条例改正) | other")
    body: Text200 | None = Field(default=None, description="審議する会議体（審議会・部会）の名称")




@dataclass(frozen=True)
class AssessmentFilter:
    state: str | None = None
    level: str | None = None
    office: str | None = None
    procedure: str | None = None
    kind: str | None = None
    #: The code of the organisation (the public reads every organisation's published cases; a user only
    #: their own organisation's, whatever this says).
    organisation: str | None = None


@dataclass(frozen=True)
class Page:
    items: Sequence[Assessment]
    total: int
    limit: int
    offset: int


def _creation_level(data: NewAssessment) -> Level:
    level = judge(data.target_count, data.handler_count, data.serious_incident, data.voluntary_level)
    if level is Level.NONE:
        raise InvalidInput.single(
            "target_count", "assessment_required",
            "しきい値判断の結果、評価の実施は義務付けられていません（対象人数1,000人未満）。"
            "任意で実施する場合は voluntary_level を指定してください。",
            "The threshold judgment requires no assessment (fewer than 1,000 persons); "
            "give voluntary_level to carry one out voluntarily.",
        )
    return level


def create_assessment(db: Database, workflows: Workflows, clock: Clock, data: NewAssessment,
                      actor: Actor) -> Assessment:
    authorize(actor, Action.CREATE_CASE)
    level = _creation_level(data)
    procedure = workflows.procedure_for_level(level)
    now = clock.now()
    case = Assessment(
        **data.model_dump(exclude={"body"}), level=str(level), procedure=procedure.name, state=procedure.initial,
        state_entered_at=now, created_at=now, updated_at=now,
    )
    return _open_case(db, procedure, case, data, actor, {"level": str(level)})


def create_consultation(db: Database, workflows: Workflows, clock: Clock, data: NewConsultation,
                        actor: Actor) -> Assessment:
    authorize(actor, Action.CREATE_CASE)
    procedure = workflows.consultation_procedure()
    now = clock.now()
    case = Assessment(
        **data.model_dump(exclude={"body"}), kind="consultation", procedure=procedure.name, state=procedure.initial,
        state_entered_at=now, created_at=now, updated_at=now,
    )
    return _open_case(db, procedure, case, data, actor, {"kind": "consultation"})


def _open_case(db: Database, procedure: Procedure, case: Assessment, data: NewAssessment | NewConsultation,
               actor: Actor, recorded: dict[str, Any]) -> Assessment:
    now = case.created_at
    case.is_public = procedure.states[case.state].has("public")
    with db.writing(actor) as session:
        if data.body:
            case.body_id = body_by_name(session, data.body).id
        session.add(case)
        session.flush()
        _append_history(session, case, actor, now, event="created", from_state=None,
                        inputs={**data.model_dump(mode="json", exclude_none=True), **recorded})
        audit.record(session, audit_actor(actor), "case.created", at=now, object_type="assessment",
                     object_id=case.id, detail={**recorded, "procedure": case.procedure})
    return case


def reconcile_public(db: Database, workflows: Workflows) -> int:
    """Bring every case's `is_public` in line with the procedures in force (at start-up: a procedure
    file may have been replaced). Returns how many cases changed."""
    changed = 0
    with db.writing(EVERY_ORGANISATION) as session:
        for procedure in workflows.procedures.values():
            public = procedure.states_tagged("public")
            in_procedure = col(Assessment.procedure) == procedure.name
            for flag, condition in ((True, col(Assessment.state).in_(public)),
                                    (False, col(Assessment.state).not_in(public))):
                result = session.connection().execute(
                    update(table_of(Assessment)).where(in_procedure, condition, col(Assessment.is_public) != flag)
                    .values(is_public=flag))
                changed += result.rowcount
    return changed


def get_assessment(db: Database, case_id: int, actor: Actor) -> Assessment:
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_CASE, case)
        return case


def list_assessments(db: Database, filters: AssessmentFilter, limit: int, offset: int, actor: Actor) -> Page:
    conditions = [
        getattr(Assessment, name) == value
        for name, value in vars(filters).items()
        if value is not None and name != "organisation"
    ]
    if filters.organisation:
        conditions.append(col(Assessment.organisation_id) == organisation_coded(filters.organisation))
    conditions.append(visible_cases(actor))
    with db.reading(actor) as session:
        total = session.exec(select(func.count()).select_from(Assessment).where(*conditions)).one()
        items = session.exec(
            select(Assessment).where(*conditions).order_by(col(Assessment.id)).limit(limit).offset(offset)
        ).all()
    return Page(items=items, total=total, limit=limit, offset=offset)


def count_by_state(db: Database, actor: Actor) -> dict[str, int]:
    """How many cases the actor may see are in each state (states without any are left out): one query,
    grouped, whatever the number of states."""
    with db.reading(actor) as session:
        rows = session.exec(select(Assessment.state, func.count()).where(visible_cases(actor))
                            .group_by(col(Assessment.state))).all()
    return dict(rows)


def history(db: Database, case_id: int, actor: Actor) -> list[HistoryEntry]:
    with db.reading(actor) as session:
        authorize(actor, Action.READ_HISTORY, cases.load(session, case_id))
        return list(session.exec(
            select(HistoryEntry).where(HistoryEntry.assessment_id == case_id).order_by(col(HistoryEntry.id))
        ).all())


def allowed_events(procedure: Procedure, state: str) -> list[dict[str, Any]]:
    """The events that may be fired now, with the inputs each needs (for clients and 409 bodies)."""
    return [_describe(event) for event in procedure.events_from(state)]


def _describe(event: EventSpec) -> dict[str, Any]:
    return {
        "name": event.name,
        "title": event.title.as_dict(),
        "to": event.target,
        "actor": event.actor,
        "inputs": [spec.as_dict() for spec in event.inputs],
    }


def advance(db: Database, workflows: Workflows, clock: Clock, case_id: int, *, event: str,
            expected_version: int, inputs: Mapping[str, Any], actor: Actor, note: str | None = None,
            files: FileStore | None = None) -> Assessment:
    """Fire `event` on the case if its version is still `expected_version` and the procedure allows it."""
    now = clock.now()
    if note is not None:
        note = validate(_Note, {"note": note}).note
    with db.writing(actor) as session:
        # FOR UPDATE: on PostgreSQL a concurrent advance waits here and then sees the new version.
        case = cases.load(session, case_id, for_update=True)
        procedure = workflows.procedure(case.procedure)
        spec = procedure.events.get(event)
        if spec is not None:
            authorize(actor, Action.FIRE_EVENT, (case, spec))
        else:
            authorize(actor, Action.READ_CASE, case)
        if case.version != expected_version:
            raise StaleVersion(
                Message(f"この案件は他の操作により更新されています（現在の版: {case.version}、送信された版: {expected_version}）。"
                        "最新の状態を読み込んでからやり直してください。",
                        f"The case has changed since you read it (version {case.version}, you sent "
                        f"{expected_version}); reload it and try again."),
                current_version=case.version, current_state=case.state,
                allowed_events=allowed_events(procedure, case.state),
            )
        if spec is None or case.state not in spec.sources:
            state_title = procedure.states[case.state].title
            raise EventNotAllowed(
                Message(f"現在の状態（{state_title.ja}）では「{spec.title.ja if spec else event}」はできません。",
                        f"'{spec.title.en if spec else event}' is not possible in the state '{state_title.en}'."),
                current_version=case.version, current_state=case.state,
                allowed_events=allowed_events(procedure, case.state),
            )
        today = local_today(clock)
        values = workflows.validated_inputs(case, spec, inputs, today, session)
        context = TransitionContext(case=case, event=spec, inputs=values, today=today, now=now, actor=actor.label,
                                    workflows=workflows, note=note, session=session, audit_actor=audit_actor(actor))
        from_state, from_procedure = case.state, case.procedure
        workflows.fire(context)
        if (case.state, case.procedure) != (from_state, from_procedure):
            case.state_entered_at = now
            public = workflows.procedure(case.procedure).states[case.state].has("public")
            if case.is_public != public:  # an effect moved the case to another procedure
                case.is_public = public
        case.updated_at = now
        try:
            session.flush()  # UPDATE … WHERE version = :seen (the mapper's version counter)
        except StaleDataError:
            raise StaleVersion(
                Message("この案件は他の操作により同時に更新されました。最新の状態を読み込んでからやり直してください。",
                        "The case was changed by someone else at the same moment; reload it and try again."),
            ) from None
        recorded = {name: _jsonable(value) for name, value in values.items() if value is not None}
        if context.outcomes:
            recorded["outcomes"] = context.outcomes
        _append_history(session, case, actor, now, event=spec.name, from_state=from_state, inputs=recorded,
                        note=note)
        audit.record(session, audit_actor(actor), "case.event", at=now, object_type="assessment", object_id=case.id,
                     detail={"event": spec.name, "from": from_state, "to": case.state, "version": case.version})
    workflows.advanced(CaseAdvanced(case_id, from_procedure, spec.name, from_state, case.state))
    if files is not None:
        for key in context.purged_keys:  # after the commit; a crash before this is swept at start
            files.purge(key)
    return case


#: Built once: a statement object keeps its compiled form and cache key between executions.
_INSERT_HISTORY = insert(table_of(HistoryEntry))


def _append_history(session: Session, case: Assessment, actor: Actor, now: datetime, *, event: str,
                    from_state: str | None, inputs: dict[str, Any], note: str | None = None) -> None:
    """The history row, as one INSERT on the transaction's connection (no unit of work: append-only)."""
    session.connection().execute(_INSERT_HISTORY, {
        "assessment_id": case.id, "cycle": case.cycle, "at": now, "actor": actor.label[:200],
        "actor_user_id": actor.user_id, "event": event, "from_state": from_state, "to_state": case.state,
        "procedure": case.procedure, "version": case.version, "note": note, "inputs": inputs,
        "organisation_id": case.organisation_id,
    })


class _Note(BaseModel):
    note: Text2000 | None = None


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


