"""Events the scheduler fires at a set time (e.g. opening and closing a public comment on the
dates the secretariat recorded).

An event is a row: the secretariat schedules it, a worker claims it when it is due (claimed_by,
claimed_until), fires it through the case's procedure in a transaction of its own and records the
outcome. A worker that dies mid-way leaves its claim to run out; the event then returns to the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from states.definition import EARLIEST_DATE, LATEST_DATE
from workflow import audit, cases, service
from workflow.accounts import audit_actor
from workflow.clock import TOKYO, Clock
from workflow.columns import stored_id
from workflow.dates import english_date, wareki
from workflow.db import Database
from workflow.engine import Workflows
from workflow.errors import Conflict, DomainError, InvalidInput, Message
from workflow.files import FileStore
from workflow.models import ScheduledEvent
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Action, Actor, authorize, system_actor
from workflow.validation import RecordInstant, Text64, instant_in_range, keys_as_names

log = logging.getLogger("shingi.scheduled_events")

#: Who the history names when the scheduler fires an event.
SCHEDULER_ACTOR = "スケジューラ（自動処理）"
#: How long a claimed event stays the claimant's before another worker may take it over.
CLAIM = timedelta(minutes=1)
#: How far in the past `run_at` may lie (a form filled in a moment ago, a clock a little behind): an
#: event set for a moment gone longer ago is refused, not fired at once.
PAST_TOLERANCE = timedelta(minutes=1)


class NewScheduledEvent(BaseModel):
    """An event to fire at a set time, with the inputs it will be fired with (checked now against the
    event's declaration, and again when it fires)."""

    model_config = ConfigDict(extra="forbid")

    event: Text64
    run_at: RecordInstant = Field(description=(
        f"ISO 8601 (2025-06-10T09:00:00+09:00); without an offset it is taken as Asia/Tokyo. Between "
        f"{EARLIEST_DATE.year} and {LATEST_DATE.year} (rule date_range) and not in the past: at most "
        f"{int(PAST_TOLERANCE.total_seconds() // 60)} minute before now (rule not_past). / "
        f"{EARLIEST_DATE.year}年から{LATEST_DATE.year}年までの、現在（1分前まで）以降の日時"))
    inputs: dict[Text64, Any] = Field(default_factory=dict, max_length=20, json_schema_extra=keys_as_names,
                                      description="the event's inputs (see allowed_events[].inputs)")


def _check_run_at(run_at: datetime, now: datetime) -> datetime:
    """`run_at` (a naive one is Tokyo time) within the dates kept and not in the past, or InvalidInput."""
    run_at = run_at if run_at.tzinfo else run_at.replace(tzinfo=TOKYO)
    if not instant_in_range(run_at):  # before any conversion: year 1 or 9999 would overflow
        raise InvalidInput.single("run_at", "date_range",
                                  f"{EARLIEST_DATE.year}年から{LATEST_DATE.year}年までの日時を入力してください。",
                                  f"Enter a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}.")
    if run_at < now - PAST_TOLERANCE:
        local = run_at.astimezone(TOKYO)
        raise InvalidInput.single("run_at", "not_past",
                                  f"過去の日時（{wareki(local.date())} {local:%H:%M}）は指定できません。",
                                  f"The time has passed ({english_date(local.date())} {local:%H:%M}).")
    return run_at


def schedule(db: Database, workflows: Workflows, clock: Clock, case_id: int, event: str, run_at: datetime,
             inputs: Mapping[str, Any], actor: Actor) -> ScheduledEvent:
    """Have the scheduler fire `event` at `run_at` (within the dates kept, not in the past); the actor
    must be allowed to fire it now, and the inputs must be ones the event takes."""
    now = clock.now()
    with db.writing(actor) as session:
        case = cases.load(session, case_id)
        spec = workflows.procedure(case.procedure).events.get(event)
        if spec is None:
            authorize(actor, Action.READ_CASE, case)
            raise InvalidInput.single("event", "one_of", f"手続「{event}」はこの案件にはありません。",
                                      f"This case's procedure has no event '{event}'.")
        authorize(actor, Action.FIRE_EVENT, (case, spec))
        run_at = _check_run_at(run_at, now)
        workflows.check_inputs(case, spec, inputs, prefix=("inputs",))
        if session.exec(select(ScheduledEvent.id).where(
                ScheduledEvent.assessment_id == case.id, ScheduledEvent.event == spec.name,
                ScheduledEvent.run_at == run_at)).first() is not None:
            raise _already_scheduled()
        row = ScheduledEvent(assessment_id=stored_id(case), event=spec.name, inputs=dict(inputs), run_at=run_at,
                             created_at=now)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:  # the same one, scheduled at the same moment by someone else
            raise _already_scheduled() from None
        audit.record(session, audit_actor(actor), "event.scheduled", at=now, object_type="assessment",
                     object_id=case.id, detail={"event": spec.name, "run_at": run_at.isoformat()})
    return row


def _already_scheduled() -> Conflict:
    return Conflict(Message("この手続は同じ日時に既に予定されています。",
                            "This event is already scheduled for that moment."))


def of_case(db: Database, case_id: int, actor: Actor) -> list[ScheduledEvent]:
    with db.reading(actor) as session:
        authorize(actor, Action.RECORD_DELIBERATION, cases.load(session, case_id))
        return list(session.exec(select(ScheduledEvent).where(ScheduledEvent.assessment_id == case_id)
                                 .order_by(col(ScheduledEvent.run_at))).all())


@dataclass(frozen=True)
class _Claimed:
    id: int
    case_id: int
    event: str
    inputs: dict[str, Any]


def fire_due(db: Database, workflows: Workflows, clock: Clock, *, worker: str, files: FileStore | None = None,
             limit: int = 20) -> int:
    """Fire the events whose time has come; the history records that the scheduler did it."""
    reap(db, clock.now())
    claimed = _claim(db, clock.now(), worker, limit)
    for row in claimed:
        outcome, error = "done", None
        try:
            with db.reading(EVERY_ORGANISATION) as session:
                version = cases.load(session, row.case_id).version
            service.advance(db, workflows, clock, row.case_id, event=row.event, expected_version=version,
                            inputs=row.inputs, actor=system_actor(SCHEDULER_ACTOR), files=files,
                            note="予定日時到来により自動実行")
        except DomainError as refused:
            outcome, error = "failed", refused.message.ja[:1000]
            log.warning("scheduled event %s on case %s refused: %s", row.event, row.case_id, refused.message.en)
        _finish(db, row.id, outcome, error, clock.now())
    return len(claimed)


def _claim(db: Database, now: datetime, worker: str, limit: int) -> Sequence[_Claimed]:
    with db.writing(EVERY_ORGANISATION) as session:
        due = session.exec(db.claiming(
            select(ScheduledEvent).where(ScheduledEvent.status == "pending", ScheduledEvent.run_at <= now)
            .order_by(col(ScheduledEvent.run_at)).limit(limit))).all()
        for row in due:  # the event itself runs in a transaction of its own, under this claim
            row.status, row.claimed_by, row.claimed_until = "running", worker, now + CLAIM
            session.add(row)
        return [_Claimed(row.id, row.assessment_id, row.event, dict(row.inputs)) for row in due if row.id]


def _finish(db: Database, event_id: int, outcome: str, error: str | None, now: datetime) -> None:
    with db.writing(EVERY_ORGANISATION) as session:
        row = session.get(ScheduledEvent, event_id)
        if row is None:  # its case was deleted meanwhile
            return
        row.status, row.error, row.done_at = outcome, error, now
        row.claimed_by, row.claimed_until = None, None
        session.add(row)


def reap(db: Database, now: datetime) -> int:
    """Events claimed by a worker that died go back to the queue when their claim runs out."""
    with db.writing(EVERY_ORGANISATION) as session:
        stuck = session.exec(select(ScheduledEvent).where(ScheduledEvent.status == "running",
                                                          col(ScheduledEvent.claimed_until) < now)).all()
        for row in stuck:
            row.status, row.claimed_by, row.claimed_until = "pending", None, None
            session.add(row)
        return len(stuck)
