"""Tables of reminders and notices. Time lives in the database: the scheduler only wakes up and
sweeps the rows that are due, claiming them so that two sweepers never take the same one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflow.columns import UTCDateTime
from workflow.organisations import Owned, organisation_field


def _instant(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class ReminderRule(SQLModel, Owned, table=True):
    """A reminder rule as data: what it watches, how long before, whom, with which template."""

    __tablename__ = "reminder_rule"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    key: str = Field(max_length=64)
    #: meeting_start | public_comment_end | minutes_correction_deadline | finding_unanswered |
    #: annual_review_due | reassessment_due | planned_holding_date | state_overdue
    watches: str = Field(max_length=40)
    #: Whether the reminder goes out before the watched moment (a meeting, a deadline) or after it
    #: (a question still unanswered, a case past its target).
    counts: str = Field(default="before", max_length=8)
    #: How many days before or after the watched moment (0: on it).
    offset_days: int = 0
    #: calendar (暦日) | open (開庁日)
    offset_unit: str = Field(default="calendar", max_length=16)
    #: Roles on the case or body: members, chair, secretariat, office
    recipients: list[str] = Field(default_factory=list, sa_type=JSON)
    template: str = Field(max_length=64)
    channels: list[str] = Field(default_factory=lambda: ["inbox", "email"], sa_type=JSON)
    enabled: bool = True
    custom_message: str | None = Field(default=None, sa_type=Text, nullable=True)


class Reminder(SQLModel, Owned, table=True):
    """One reminder due to one person: derived from the records and kept as a row (the source of truth)."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("rule_key", "subject_type", "subject_id", "user_id"),
        Index("ix_reminder_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    rule_key: str = Field(max_length=64)
    subject_type: str = Field(max_length=16)  # meeting | assessment | minutes | finding
    subject_id: int
    user_id: int = Field(foreign_key="user_account.id", index=True)
    #: The watched moment (meeting start, deadline …) as it stood when the reminder was (re)computed.
    fact_at: datetime = _instant()
    due_at: datetime = _instant()
    #: pending | sent | withdrawn
    status: str = Field(default="pending", max_length=16)
    sent_at: datetime | None = _instant(default=None, nullable=True)
    created_at: datetime = _instant()
    updated_at: datetime = _instant()


class Notice(SQLModel, Owned, table=True):
    """A rendered message to one person on one channel (the outbox; the inbox is its `inbox` rows)."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_pending", "channel", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    #: Unique per message and channel, so that a retried delivery never doubles a notice.
    dedupe_key: str = Field(max_length=200, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    channel: str = Field(max_length=16)  # inbox | email
    #: reminder | change (日時変更のお知らせ) | cancellation (中止のお知らせ)
    kind: str = Field(max_length=16)
    reminder_id: int | None = Field(default=None, foreign_key="reminder.id")
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=Text)
    body_html: str | None = Field(default=None, sa_type=Text, nullable=True)
    #: When the reminder was due (shown when it goes out late, after downtime).
    due_at: datetime = _instant()
    #: pending | sent | failed (permanently)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _instant(default=None, nullable=True)
    #: The claim of the worker sending it (see workflow.claims): who, and until when.
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = _instant(default=None, nullable=True)
    sent_at: datetime | None = _instant(default=None, nullable=True)
    read_at: datetime | None = _instant(default=None, nullable=True)
    error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _instant()


class CalendarToken(SQLModel, Owned, table=True):
    """The secret in a private calendar feed's URL (a member's own, or a body's); rotatable."""

    __tablename__ = "calendar_token"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    body_id: int | None = Field(default=None, foreign_key="body.id", index=True)
    created_at: datetime = _instant()
    revoked_at: datetime | None = _instant(default=None, nullable=True)


class Heartbeat(SQLModel, table=True):
    """The scheduler's last sweep, per instance: /ready reports a scheduler that is late, /metrics its age."""

    __tablename__ = "heartbeat"

    instance: str = Field(max_length=100, primary_key=True)
    beat_at: datetime = _instant()
    delivered: int = 0

