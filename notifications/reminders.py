"""Reminders derived from the records and kept as rows.

Whenever a watched fact changes (a meeting is scheduled, moved or cancelled; a public comment opens;
a case is published or changes state; minutes go out for corrections; a question is raised or
answered) the caller recomputes that subject's reminders in the same transaction: pending ones are
re-timed or withdrawn, new ones are added, and people who were already reminded of a meeting that
moved or was cancelled get a change notice instead of silence.
"""

from __future__ import annotations

import functools
import time as _time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Row, Select, bindparam, insert, or_, update
from sqlmodel import Session, col, select

from notifications.calendar import DEFAULT_CALENDAR, BusinessCalendar
from notifications.models import Notice, Reminder, ReminderRule
from workflow.clock import TOKYO
from workflow.db import Database
from workflow.models import Assessment, Membership, Office, UserAccount

DEFAULT_RULES = Path(__file__).parent / "rules.yaml"
_REMINDERS = Reminder.__table__
#: Built once: a statement object keeps its compiled form and cache key between executions.
_SUBJECT_REMINDERS = (
    select(_REMINDERS.c.id, _REMINDERS.c.rule_key, _REMINDERS.c.user_id, _REMINDERS.c.status, _REMINDERS.c.fact_at)
    .where(_REMINDERS.c.subject_type == bindparam("subject_type"), _REMINDERS.c.subject_id == bindparam("subject_id"))
)
_RETIME = update(_REMINDERS).where(_REMINDERS.c.id == bindparam("row_id")).values(
    status=bindparam("new_status"), fact_at=bindparam("new_fact_at"), due_at=bindparam("new_due_at"),
    updated_at=bindparam("now"))
_INSERT_REMINDERS = insert(_REMINDERS)

#: Which watched facts belong to which kind of subject.
WATCHES = {
    "meeting": ("meeting_start",),
    "assessment": ("public_comment_end", "annual_review_due", "reassessment_due", "planned_holding_date",
                   "state_overdue"),
    "minutes": ("minutes_correction_deadline",),
    "finding": ("finding_unanswered",),
}
ROLES = ("members", "chair", "secretariat", "office")
#: Reminders of a day's deadline go out in the morning of their day.
SEND_TIME = time(9, 0)
CHAIR_POSITIONS = ("chair", "acting_chair")


def ensure_default_rules(db: Database, path: Path = DEFAULT_RULES) -> int:
    """Add the shipped rules that are missing; rules the secretariat changed stay as they are."""
    defaults = yaml.safe_load(path.read_text(encoding="utf-8"))
    added = 0
    forget_rules()
    with db.writing() as session:
        known = set(session.exec(select(ReminderRule.key)).all())
        for rule in defaults:
            if rule["key"] not in known:
                session.add(ReminderRule(**rule))
                added += 1
    return added


@dataclass(frozen=True)
class Audience:
    """Where a subject sits: the body whose members are reminded, and the office concerned."""

    body_id: int | None
    office: str | None


def recipients(session: Session, roles: Iterable[str], audience: Audience) -> set[int]:
    """The active users who hold the given roles for this subject (one query)."""
    roles = frozenset(roles)
    by_body = audience.body_id is not None and bool(roles & {"members", "chair"})
    by_office = "office" in roles and bool(audience.office)
    query = _recipients_query(roles, by_body, by_office)
    if query is None:
        return set()
    return set(session.connection().execute(query, {"body_id": audience.body_id, "office": audience.office})
               .scalars())


@functools.cache
def _recipients_query(roles: frozenset[str], by_body: bool, by_office: bool) -> Select | None:
    """One statement per shape, built once (building and keying a statement costs more than running it)."""
    conditions = []
    if by_body:
        seats = select(Membership.user_id).where(Membership.body_id == bindparam("body_id"))
        if "members" not in roles:
            seats = seats.where(col(Membership.position).in_(CHAIR_POSITIONS))
        conditions.append(col(UserAccount.id).in_(seats))
    if "secretariat" in roles:
        conditions.append(col(UserAccount.is_secretariat).is_(True))
    if by_office:
        conditions.append(col(UserAccount.office_id).in_(select(Office.id).where(Office.name == bindparam("office"))))
    if not conditions:
        return None
    return select(UserAccount.id).where(or_(*conditions), col(UserAccount.disabled_at).is_(None))


#: Rules change rarely (the secretariat edits them); each process reads them at most every few seconds.
RULES_TTL_SECONDS = 5.0
_rules_cache: dict[str, tuple[float, list[ReminderRule]]] = {}


def _rules_watching(session: Session, subject_type: str) -> list[ReminderRule]:
    cached = _rules_cache.get(subject_type)
    if cached is not None and _time.monotonic() - cached[0] < RULES_TTL_SECONDS:
        return cached[1]
    found = list(session.exec(select(ReminderRule).where(col(ReminderRule.watches).in_(WATCHES[subject_type]))).all())
    for rule in found:
        session.expunge(rule)  # kept beyond this session: plain values only
    _rules_cache[subject_type] = (_time.monotonic(), found)
    return found


def forget_rules() -> None:
    """Drop this process's copy of the rules (after an edit here; other processes follow within the TTL)."""
    _rules_cache.clear()


def due_time(rule: ReminderRule, fact_at: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> datetime:
    """When a reminder goes out: `offset_days` before the fact, moved to the open day before if closed."""
    fact_day = fact_at.astimezone(TOKYO).date()
    if rule.offset_unit == "open":
        day = calendar.add_open_days(fact_day, -rule.offset_days)
    else:
        day = fact_day - timedelta(days=rule.offset_days)
    day = calendar.send_day(day)
    return datetime.combine(day, SEND_TIME, TOKYO)


def _day_end(day) -> datetime:
    return datetime.combine(day, time(17, 0), TOKYO)


def assessment_facts(case: Assessment, state_kind: str, target_days: int | None) -> dict[str, datetime | None]:
    """The moments a case's reminders watch, as the case stands now (None: nothing to watch)."""
    in_comment = case.state == "public_comment" and case.comment_end is not None
    settled = state_kind == "settled"
    overdue_at = (case.state_entered_at + timedelta(days=target_days)
                  if state_kind == "active" and target_days else None)
    return {
        "public_comment_end": _day_end(case.comment_end) if in_comment else None,
        "annual_review_due": _day_end(case.annual_review_due) if settled and case.annual_review_due else None,
        "reassessment_due": _day_end(case.reassessment_due) if settled and case.reassessment_due else None,
        "planned_holding_date": (_day_end(case.planned_holding_date)
                                 if case.planned_holding_date and state_kind == "active" else None),
        "state_overdue": overdue_at,
    }


@dataclass
class Refreshed:
    added: int = 0
    retimed: int = 0
    withdrawn: int = 0
    #: (user id, reminder) pairs of people already reminded of a fact that has now changed or gone
    changed: list[tuple[int, Row]] | None = None
    cancelled: list[tuple[int, Row]] | None = None


def refresh(session: Session, subject_type: str, subject_id: int, facts: Mapping[str, datetime | None],
            audience: Audience, now: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> Refreshed:
    """Bring the subject's reminder rows in line with its facts (in the caller's transaction)."""
    with session.no_autoflush:
        return _refresh(session, subject_type, subject_id, facts, audience, now, calendar)


def _refresh(session: Session, subject_type: str, subject_id: int, facts: Mapping[str, datetime | None],
             audience: Audience, now: datetime, calendar: BusinessCalendar) -> Refreshed:
    all_rules = _rules_watching(session, subject_type)
    watch_of = {rule.key: rule.watches for rule in all_rules}
    desired: dict[tuple[str, int], tuple[datetime, datetime]] = {}
    people: dict[tuple[str, ...], set[int]] = {}
    for rule in (rule for rule in all_rules if rule.enabled):
        fact = facts.get(rule.watches)
        # A rule that counts back from a moment has nothing to do once it has passed; one that counts on
        # from it (a negative offset, e.g. 14 days after a question was raised) still has.
        if fact is None or (fact <= now and rule.offset_days >= 0):
            continue
        due = max(due_time(rule, fact, calendar), now)
        roles = tuple(sorted(rule.recipients))
        if roles not in people:
            people[roles] = recipients(session, roles, audience)
        for user_id in people[roles]:
            desired[(rule.key, user_id)] = (fact, due)

    # Core statements on the session's connection: this runs in every change's transaction, and the
    # unit of work costs several times what the statements do.
    connection = session.connection()
    result = Refreshed(changed=[], cancelled=[])
    existing = connection.execute(_SUBJECT_REMINDERS, {"subject_type": subject_type, "subject_id": subject_id}).all()
    withdrawn: list[int] = []
    retimed: list[dict[str, Any]] = []
    for row in existing:
        wanted = desired.pop((row.rule_key, row.user_id), None)
        if wanted is None:
            if row.status == "pending":
                withdrawn.append(row.id)
            elif row.status == "sent" and row.rule_key in watch_of and facts.get(watch_of[row.rule_key]) is None:
                result.cancelled.append((row.user_id, row))  # the fact itself is gone (e.g. cancelled)
            continue
        fact, due = wanted
        if row.fact_at == fact and row.status != "withdrawn":
            continue
        if row.status == "sent" and row.fact_at != fact:
            result.changed.append((row.user_id, row))  # the row as it was: its fact_at is the old moment
        status = "pending" if row.status == "pending" or due > now or row.status == "withdrawn" else row.status
        retimed.append({"row_id": row.id, "new_status": status, "new_fact_at": fact, "new_due_at": due})
    if withdrawn:
        connection.execute(update(_REMINDERS).where(_REMINDERS.c.id.in_(withdrawn))
                           .values(status="withdrawn", updated_at=now))
        result.withdrawn = len(withdrawn)
    if retimed:
        for values in retimed:
            values["now"] = now
        connection.execute(_RETIME, retimed)
        result.retimed = len(retimed)
    if desired:
        connection.execute(_INSERT_REMINDERS, [
            {"rule_key": rule_key, "subject_type": subject_type, "subject_id": subject_id, "user_id": user_id,
             "fact_at": fact, "due_at": due, "status": "pending", "created_at": now, "updated_at": now}
            for (rule_key, user_id), (fact, due) in desired.items()
        ])
        result.added = len(desired)
    _notify_people_already_reminded(session, subject_type, subject_id, result, now)
    return result


def _notify_people_already_reminded(session: Session, subject_type: str, subject_id: int, result: Refreshed,
                                    now: datetime) -> None:
    """日時変更のお知らせ / 中止のお知らせ to each person once, in the same transaction."""
    if subject_type != "meeting":
        return
    from notifications import messages  # rendering lives with the notice templates

    for kind, pairs in (("meeting_changed", result.changed), ("meeting_cancelled", result.cancelled)):
        notified: set[int] = set()
        for user_id, reminder in pairs or []:
            if user_id in notified:
                continue
            notified.add(user_id)
            for notice in messages.change_notices(session, kind, subject_id, user_id, reminder, now):
                session.add(notice)


def pending_for(session: Session, subject_type: str, subject_id: int) -> list[Reminder]:
    return list(session.exec(select(Reminder).where(Reminder.subject_type == subject_type,
                                                    Reminder.subject_id == subject_id,
                                                    Reminder.status == "pending")
                             .order_by(col(Reminder.due_at))).all())


def inbox(db: Database, user_id: int, *, unread_only: bool = False, limit: int = 100) -> list[Notice]:
    with db.reading() as session:
        query = select(Notice).where(Notice.user_id == user_id, Notice.channel == "inbox")
        if unread_only:
            query = query.where(col(Notice.read_at).is_(None))
        return list(session.exec(query.order_by(col(Notice.id).desc()).limit(limit)).all())


def rules(db: Database) -> list[ReminderRule]:
    with db.reading() as session:
        return list(session.exec(select(ReminderRule).order_by(col(ReminderRule.id))).all())


def describe(rule: ReminderRule) -> dict[str, Any]:
    return rule.model_dump()


def mark_read(db: Database, notice_id: int, user_id: int, now: datetime) -> Notice:
    from workflow.errors import Message, NotFound

    with db.writing() as session:
        notice = session.get(Notice, notice_id)
        if notice is None or notice.user_id != user_id or notice.channel != "inbox":
            raise NotFound(Message("お知らせが見つかりません。", "No such notice."))
        notice.read_at = notice.read_at or now
        session.add(notice)
    return notice


def change_rule(db: Database, key: str, values: Mapping[str, Any], actor: Any, now: datetime) -> ReminderRule:
    """The secretariat changes a rule (on/off, offset, recipients, channels, its own message)."""
    from workflow import audit
    from workflow.accounts import audit_actor
    from workflow.errors import InvalidInput, Message, NotFound
    from workflow.policy import Action, authorize

    authorize(actor, Action.MANAGE_MEETINGS)
    if "recipients" in values and not set(values["recipients"]) <= set(ROLES):
        raise InvalidInput.single("recipients", "one_of", f"宛先は {', '.join(ROLES)} から選んでください。",
                                  f"Recipients are among {', '.join(ROLES)}.")
    if "channels" in values and not set(values["channels"]) <= {"inbox", "email"}:
        raise InvalidInput.single("channels", "one_of", "通知方法は inbox, email から選んでください。",
                                  "Channels are inbox and email.")
    with db.writing() as session:
        rule = session.exec(select(ReminderRule).where(ReminderRule.key == key)).first()
        if rule is None:
            raise NotFound(Message(f"規則 {key} はありません。", f"No rule {key}."))
        for name, value in values.items():
            setattr(rule, name, value)
        session.add(rule)
        forget_rules()
        audit.record(session, audit_actor(actor), "reminder_rule.changed", at=now, object_type="reminder_rule",
                     object_id=rule.key, detail={name: str(value) for name, value in values.items()})
    return rule


def schedule_event(db: Database, workflows: Any, case_id: int, event: str, run_at: datetime,
                   inputs: Mapping[str, Any], actor: Any, now: datetime) -> Any:
    """Have the scheduler fire `event` at `run_at` (e.g. open and close a public comment on its dates)."""
    from notifications.models import ScheduledEvent
    from workflow import audit
    from workflow.accounts import audit_actor
    from workflow.errors import InvalidInput
    from workflow.policy import Action, authorize
    from workflow.service import _load

    run_at = run_at if run_at.tzinfo else run_at.replace(tzinfo=TOKYO)
    with db.writing() as session:
        case = _load(session, case_id)
        spec = workflows.procedure(case.procedure).events.get(event)
        if spec is None:
            raise InvalidInput.single("event", "one_of", f"手続「{event}」はこの案件にはありません。",
                                      f"This case's procedure has no event '{event}'.")
        authorize(actor, Action.FIRE_EVENT, (case, spec))
        row = ScheduledEvent(assessment_id=case.id, event=spec.name, inputs=dict(inputs), run_at=run_at,
                             created_at=now)
        session.add(row)
        session.flush()
        audit.record(session, audit_actor(actor), "event.scheduled", at=now, object_type="assessment",
                     object_id=case.id, detail={"event": spec.name, "run_at": run_at.isoformat()})
    return row


def scheduled_events(db: Database, case_id: int, actor: Any) -> list[Any]:
    from notifications.models import ScheduledEvent
    from workflow.policy import Action, authorize
    from workflow.service import _load

    with db.reading() as session:
        authorize(actor, Action.RECORD_DELIBERATION, _load(session, case_id))
        return list(session.exec(select(ScheduledEvent).where(ScheduledEvent.assessment_id == case_id)
                                 .order_by(col(ScheduledEvent.run_at))).all())
