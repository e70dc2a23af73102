"""Reminders without a database: a reminder's due time goes back to the open day before (the planning of
reminders from facts: tests/unit/test_reminder_planning.py)."""

from datetime import datetime

from notifications import reminders
from notifications.models import ReminderRule
from workflow.calendar import DEFAULT_CALENDAR
from workflow.clock import TOKYO


def test_due_time_goes_back_to_the_open_day_before():
    rule = ReminderRule(key="x", watches="meeting_start", offset_days=7, template="meeting_reminder")
    # 7 days before Monday 2026-05-11 is Monday 2026-05-04 (みどりの日): it goes out on Friday 5/1.
    assert reminders.due_time(rule, datetime(2026, 5, 11, 10, tzinfo=TOKYO), DEFAULT_CALENDAR) == datetime(2026, 5, 1, 9, tzinfo=TOKYO)
    rule.offset_unit, rule.offset_days = "open", 1
    # one open day before Monday 2026-01-05 skips the year-end closure back to Monday 12/28
    assert reminders.due_time(rule, datetime(2026, 1, 5, 10, tzinfo=TOKYO), DEFAULT_CALENDAR) == datetime(2025, 12, 26, 9, tzinfo=TOKYO)
