"""The in-app inbox, the reminder rules, and the events scheduled on a case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from api.schemas.common import from_row
from notifications.models import Notice, ReminderRule
from workflow.models import ScheduledEvent


class NoticeOut(BaseModel):
    id: int
    kind: str
    subject: str
    text: str
    due_at: datetime
    sent_at: datetime | None
    read_at: datetime | None


def notice_out(notice: Notice) -> NoticeOut:
    return from_row(NoticeOut, notice, text=notice.body_text)


class ReminderRuleOut(BaseModel):
    id: int
    key: str
    watches: str
    counts: str
    offset_days: int
    offset_unit: str
    recipients: list[str]
    template: str
    channels: list[str]
    enabled: bool
    custom_message: str | None


def rule_out(rule: ReminderRule) -> ReminderRuleOut:
    return from_row(ReminderRuleOut, rule)


class ScheduledEventOut(BaseModel):
    """An event the scheduler fires at `run_at` (the worker's claim on it is its own business)."""

    id: int
    assessment_id: int
    event: str
    inputs: dict[str, Any]  # the event's inputs: JSON values
    run_at: datetime
    status: str
    error: str | None
    created_at: datetime
    done_at: datetime | None


def scheduled_event_out(row: ScheduledEvent) -> ScheduledEventOut:
    return from_row(ScheduledEventOut, row)
