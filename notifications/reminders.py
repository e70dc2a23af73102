"""Reminders derived from the records and kept as rows.

A reminder rule (data the secretariat edits) watches a moment of a subject — a meeting's start, the
end of a public comment, a question raised, a case's target — and says how many days before or
after it whom to remind. The domain records that a subject changed (a case's version moves; a
meeting, its minutes or a finding writes a change row); after the commit `follow_changes` brings
each changed subject's reminder rows in line with its facts: pending ones are re-timed or withdrawn,
new ones added, and people already reminded of a meeting that moved or was cancelled get a change
notice instead of silence. Planning is pure (`plan`); `apply` writes what it decided.
"""

from __future__ import annotations

import functools
import time as _time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, insert, or_, update
from sqlalchemy import select as core_select  # sqlmodel's select types at most four columns
from sqlmodel import Session, col, select

from notifications import channels
from notifications.models import Reminder, ReminderRule
from workflow import audit, changes
from workflow.accounts import audit_actor
from workflow.calendar import BusinessCalendar
from workflow.changes import Subject
from workflow.clock import TOKYO
from workflow.columns import table_of
from workflow.db import Database
from workflow.errors import Message, NotFound
from workflow.models import Assessment, Membership, Office, RecordChange, UserAccount
from workflow.organisations import EVERY_ORGANISATION, Organisation, record_owner
from workflow.policy import Action, Actor, authorize
from workflow.validation import JSON_INTEGER, Text2000OrEmpty, has_control_characters

DEFAULT_RULES = Path(__file__).parent / "rules.yaml"


class Counts(StrEnum):
    """Whether a rule reminds before its moment (a meeting, a deadline) or after it (a question still
    unanswered, a case past its target)."""

    BEFORE = "before"
    AFTER = "after"


#: Which watched moments belong to which kind of subject.
WATCHES: Mapping[Subject, tuple[str, ...]] = {
    Subject.MEETING: ("meeting_start",),
    Subject.CASE: ("public_comment_end", "annual_review_due", "reassessment_due", "planned_holding_date",
                   "state_overdue"),
    Subject.MINUTES: ("minutes_correction_deadline",),
    Subject.FINDING: ("finding_unanswered",),
}
Recipient = Literal["members", "chair", "secretariat", "office"]
Channel = Literal["inbox", "email"]
ROLES: tuple[str, ...] = get_args(Recipient)
CHANNELS: tuple[str, ...] = get_args(Channel)
assert set(CHANNELS) == set(channels.NAMES), "RuleChange's channels are the channels there are"
#: Reminders of a day's deadline go out in the morning of their day.
SEND_TIME = time(9, 0)
CHAIR_POSITIONS = ("chair", "acting_chair")


# --- rules ---------------------------------------------------------------------------------------

def ensure_default_rules(db: Database, path: Path = DEFAULT_RULES) -> int:
    """Give every organisation the shipped rules it is missing; rules its secretariat changed stay as they are."""
    defaults = yaml.safe_load(path.read_text(encoding="utf-8"))
    added = 0
    forget_rules()
    with db.writing(EVERY_ORGANISATION) as session:
        known = set(session.exec(select(ReminderRule.organisation_id, ReminderRule.key)).all())
        for organisation in session.exec(select(Organisation.id)).all():
            for rule in defaults:
                if (organisation, rule["key"]) not in known:
                    session.add(ReminderRule(**rule, organisation_id=organisation))
                    added += 1
    return added


#: Rules change rarely (the secretariat edits them); each process reads them at most every few seconds.
RULES_TTL_SECONDS = 5.0
_rules_cache: dict[tuple[int, Subject], tuple[float, list[ReminderRule]]] = {}


def _rules_watching(session: Session, organisation: int, subject: Subject) -> list[ReminderRule]:
    """The organisation's rules that watch moments of `subject`."""
    cached = _rules_cache.get((organisation, subject))
    if cached is not None and _time.monotonic() - cached[0] < RULES_TTL_SECONDS:
        return cached[1]
    found = list(session.exec(select(ReminderRule).where(ReminderRule.organisation_id == organisation,
                                                         col(ReminderRule.watches).in_(WATCHES[subject]))).all())
    for rule in found:
        session.expunge(rule)  # kept beyond this session: plain values only
    _rules_cache[(organisation, subject)] = (_time.monotonic(), found)
    return found


def forget_rules() -> None:
    """Drop this process's copy of the rules (after an edit here; other processes follow within the TTL)."""
    _rules_cache.clear()


def rules(db: Database, actor: Actor) -> list[ReminderRule]:
    authorize(actor, Action.MANAGE_REMINDER_RULES)
    with db.reading(actor) as session:
        return list(session.exec(select(ReminderRule).order_by(col(ReminderRule.id))).all())


def _given_only(schema: dict[str, Any]) -> None:
    """The schema of a field that may be left out but is never null: no `null` among its types, no default."""
    schema.pop("default", None)
    kinds = [kind for kind in schema.get("anyOf", ()) if kind.get("type") != "null"]
    if "anyOf" in schema and len(kinds) == 1:
        del schema["anyOf"]
        schema.update(kinds[0])


#: Fields of RuleChange that may be left out but are never null (None: not sent).
_GIVEN_ONLY = ("enabled", "counts", "offset_days", "offset_unit", "recipients", "channels")


class RuleChange(BaseModel):
    """What the secretariat changes in a reminder rule: only the fields it sends change.

    Every field may be left out, and none may be null (rule `not_null`) — a rule is always on or off,
    counts before or after, and has its recipients and channels — except `custom_message`, where null
    (like "") clears the rule's own message. None in a field here means only that it was not sent."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool | None = Field(default=None, json_schema_extra=_given_only)
    counts: Counts | None = Field(default=None, json_schema_extra=_given_only,
                                  description="before: 事前に（会議・期限の前） / after: 事後に（未回答の質問、目標期間の超過）")
    offset_days: Annotated[int, Field(ge=0, le=365), JSON_INTEGER] | None = Field(
        default=None, json_schema_extra=_given_only, description="何日前（after のときは何日後）")
    offset_unit: Literal["calendar", "open"] | None = Field(default=None, json_schema_extra=_given_only,
                                                            description="calendar: 暦日 / open: 開庁日")
    recipients: list[Recipient] | None = Field(default=None, max_length=4, json_schema_extra=_given_only)
    channels: list[Channel] | None = Field(default=None, max_length=2, json_schema_extra=_given_only)
    custom_message: Text2000OrEmpty | None = Field(
        default=None, description="規則の独自メッセージ（null または空文字で消去） / the rule's own message; null or \"\" clears it")

    @field_validator(*_GIVEN_ONLY, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("not_null", "Leave the field out to keep it as it is; it cannot be null.")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields sent, as the rule stores them (a cleared message is None)."""
        values = self.model_dump(mode="json", exclude_unset=True)
        if "custom_message" in values:
            values["custom_message"] = values["custom_message"] or None
        return values


#: What a rule's reminders are planned from (its channels and message count only when one goes out).
_PLANNING = frozenset({"enabled", "counts", "offset_days", "offset_unit", "recipients"})


def change_rule(db: Database, key: str, change: RuleChange, actor: Actor, now: datetime) -> ReminderRule:
    """The secretariat changes a rule (on/off, offset, before/after, recipients, channels, its own message)."""
    authorize(actor, Action.MANAGE_REMINDER_RULES)
    values = change.changes()
    with db.writing(actor) as session:
        rule = session.exec(select(ReminderRule).where(ReminderRule.key == key)).first() \
            if not has_control_characters(key) else None
        if rule is None:
            raise NotFound(Message(f"規則 {key} はありません。", f"No rule {key}."))
        for name, value in values.items():
            setattr(rule, name, value)
        session.add(rule)
        forget_rules()
        if values.keys() & _PLANNING:  # the reminders it has made are planned again, by the next sweep
            changes.all_changed(session, now, [subject for subject, moments in WATCHES.items()
                                               if rule.watches in moments])
        audit.record(session, audit_actor(actor), "reminder_rule.changed", at=now, object_type="reminder_rule",
                     object_id=rule.key, detail={name: str(value) for name, value in values.items()})
    return rule


def due_time(rule: ReminderRule, fact_at: datetime, calendar: BusinessCalendar) -> datetime:
    """When a reminder goes out.

    Before its moment: `offset_days` before the moment's day, in the morning (SEND_TIME), moved to
    the open day before if that day is closed — never later than announced. After its moment: the
    moment plus `offset_days`, moved to the next open day's morning if that day is closed — never
    earlier than the moment it follows.
    """
    local = fact_at.astimezone(TOKYO)
    days = rule.offset_days
    if rule.counts == Counts.AFTER:
        if rule.offset_unit == "open":
            moment = datetime.combine(calendar.add_open_days(local.date(), days), local.timetz())
        else:
            moment = local + timedelta(days=days)
        if calendar.is_open(moment.date()):
            return moment
        return datetime.combine(calendar.next_open_day(moment.date()), SEND_TIME, TOKYO)
    day = calendar.add_open_days(local.date(), -days) if rule.offset_unit == "open" else local.date() - timedelta(
        days=days)
    return datetime.combine(calendar.send_day(day), SEND_TIME, TOKYO)


def expired(rule: ReminderRule, fact_at: datetime, now: datetime) -> bool:
    """A reminder ahead of a moment that has already passed has nothing left to announce (downtime)."""
    return rule.counts != Counts.AFTER and fact_at <= now


# --- recipients ----------------------------------------------------------------------------------

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
def _recipients_query(roles: frozenset[str], by_body: bool, by_office: bool) -> Select[Any] | None:
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


# --- planning (pure) -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Existing:
    """A reminder row as it stands."""

    id: int
    rule_key: str
    user_id: int
    status: str
    fact_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class Wanted:
    """A reminder the facts call for: of which moment, and when it goes out."""

    fact_at: datetime
    due_at: datetime


@dataclass
class Plan:
    add: dict[tuple[str, int], Wanted] = field(default_factory=dict)
    #: (row id, status, fact_at, due_at)
    retime: list[tuple[int, str, datetime, datetime]] = field(default_factory=list)
    withdraw: list[int] = field(default_factory=list)
    #: People already reminded of a moment that has moved (the rows as they were) or is gone.
    changed: list[Existing] = field(default_factory=list)
    cancelled: list[Existing] = field(default_factory=list)


def desired(rules: Iterable[ReminderRule], facts: Mapping[str, datetime | None],
            people: Callable[[tuple[str, ...]], set[int]], now: datetime,
            calendar: BusinessCalendar) -> dict[tuple[str, int], Wanted]:
    """The reminders the facts call for, per (rule, person)."""
    wanted: dict[tuple[str, int], Wanted] = {}
    for rule in rules:
        fact = facts.get(rule.watches)
        if not rule.enabled or fact is None or expired(rule, fact, now):
            continue
        reminder = Wanted(fact, max(due_time(rule, fact, calendar), now))
        for user_id in people(tuple(sorted(rule.recipients))):
            wanted[(rule.key, user_id)] = reminder
    return wanted


def _same_due(stored: datetime, wanted: datetime, now: datetime) -> bool:
    """A pending row needs no new due time when it has the one wanted, or when both are already past
    (it goes out with the next delivery either way)."""
    return stored == wanted or (stored <= now and wanted <= now)


def plan(existing: Sequence[Existing], wanted: Mapping[tuple[str, int], Wanted], gone: frozenset[str],
         now: datetime) -> Plan:
    """What to do with the rows of one subject so that they match `wanted`.

    `gone`: the rules whose watched moment no longer exists (a cancelled meeting): people already
    reminded of it are told.
    """
    result = Plan(add=dict(wanted))
    for row in existing:
        target = result.add.pop((row.rule_key, row.user_id), None)
        if target is None:
            if row.status == "pending":
                result.withdraw.append(row.id)
            elif row.status == "sent" and row.rule_key in gone:
                result.cancelled.append(row)
            continue
        if row.fact_at == target.fact_at and (row.status not in ("pending", "withdrawn")
                                               or (row.status == "pending" and _same_due(row.due_at, target.due_at, now))):
            continue  # told already of this moment, or waiting to be told at the right time
        if row.status == "sent" and row.fact_at != target.fact_at:
            result.changed.append(row)
        again = row.status in ("pending", "withdrawn") or target.due_at > now
        result.retime.append((row.id, "pending" if again else row.status, target.fact_at, target.due_at))
    return result


# --- applying ------------------------------------------------------------------------------------

_REMINDERS = table_of(Reminder)
#: Built once: a statement object keeps its compiled form and cache key between executions.
_SUBJECT_REMINDERS = (
    core_select(_REMINDERS.c.id, _REMINDERS.c.rule_key, _REMINDERS.c.user_id, _REMINDERS.c.status,
                _REMINDERS.c.fact_at, _REMINDERS.c.due_at)
    .where(_REMINDERS.c.subject_type == bindparam("subject_type"), _REMINDERS.c.subject_id == bindparam("subject_id"))
)
_RETIME = update(_REMINDERS).where(_REMINDERS.c.id == bindparam("row_id")).values(
    status=bindparam("new_status"), fact_at=bindparam("new_fact_at"), due_at=bindparam("new_due_at"),
    updated_at=bindparam("now"))
_WITHDRAW = update(_REMINDERS).where(_REMINDERS.c.id.in_(bindparam("ids", expanding=True))).values(
    status="withdrawn", updated_at=bindparam("now"))
_INSERT_REMINDERS = insert(_REMINDERS)

#: Told to those already reminded of a meeting that moved or was cancelled (in the apply's transaction).
ChangeNotices = Callable[[Session, Subject, int, Plan, datetime], None]


def refresh(session: Session, subject: Subject, subject_id: int, facts: Mapping[str, datetime | None],
            audience: Audience, now: datetime, calendar: BusinessCalendar,
            tell: ChangeNotices | None = None) -> Plan:
    """Bring the subject's reminder rows in line with its facts (in the caller's transaction)."""
    with session.no_autoflush:
        organisation = record_owner(session, subject.value, subject_id)
        all_rules = _rules_watching(session, organisation, subject)
        people: dict[tuple[str, ...], set[int]] = {}

        def people_of(roles: tuple[str, ...]) -> set[int]:
            if roles not in people:
                people[roles] = recipients(session, roles, audience)
            return people[roles]

        wanted = desired(all_rules, facts, people_of, now, calendar)
        gone = frozenset(rule.key for rule in all_rules if facts.get(rule.watches) is None)
        # Core statements on the session's connection: this runs for every change, and the unit of
        # work costs several times what the statements do.
        connection = session.connection()
        rows = connection.execute(_SUBJECT_REMINDERS, {"subject_type": subject.value, "subject_id": subject_id})
        decided = plan([Existing(row.id, row.rule_key, row.user_id, row.status, row.fact_at, row.due_at)
                        for row in rows],
                       wanted, gone, now)
        if decided.withdraw:
            connection.execute(_WITHDRAW, {"ids": decided.withdraw, "now": now})
        if decided.retime:
            connection.execute(_RETIME, [
                {"row_id": row_id, "new_status": status, "new_fact_at": fact, "new_due_at": due, "now": now}
                for row_id, status, fact, due in decided.retime])
        if decided.add:
            connection.execute(_INSERT_REMINDERS, [
                {"rule_key": rule_key, "subject_type": subject.value, "subject_id": subject_id, "user_id": user_id,
                 "fact_at": wanted.fact_at, "due_at": wanted.due_at, "status": "pending", "created_at": now,
                 "updated_at": now, "organisation_id": organisation}
                for (rule_key, user_id), wanted in decided.add.items()])
        if tell is not None:
            tell(session, subject, subject_id, decided, now)
    return decided


def pending_for(session: Session, subject: Subject | str, subject_id: int) -> list[Reminder]:
    return list(session.exec(select(Reminder).where(Reminder.subject_type == str(subject),
                                                    Reminder.subject_id == subject_id,
                                                    Reminder.status == "pending")
                             .order_by(col(Reminder.due_at))).all())


def of_changed_subject() -> ColumnElement[bool]:
    """The SQL condition: this reminder's subject changed since its reminders were computed (its rows
    wait for that recomputation before any of them goes out)."""
    return or_(
        exists().where(col(Reminder.subject_type) == Subject.CASE.value, col(Assessment.id) == Reminder.subject_id,
                       changes.cases_changed_since_reminders()),
        exists().where(and_(col(RecordChange.subject_type) == Reminder.subject_type,
                            col(RecordChange.subject_id) == Reminder.subject_id)),
    )
