"""Reminder planning as pure functions: when each rule is due, what the facts call for, and what to
do with the rows a subject already has — no database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from notifications.models import ReminderRule
from notifications.reminders import Existing, Wanted, desired, due_time, expired, plan
from workflow.calendar import BusinessCalendar
from workflow.clock import TOKYO

CALENDAR = BusinessCalendar()


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TOKYO)


def rule(key: str = "r", *, watches: str = "meeting_start", counts: str = "before", days: int = 0,
         unit: str = "calendar", recipients: tuple[str, ...] = ("members",), enabled: bool = True) -> ReminderRule:
    return ReminderRule(key=key, watches=watches, counts=counts, offset_days=days, offset_unit=unit,
                        recipients=list(recipients), template="meeting_reminder", enabled=enabled)


@pytest.mark.parametrize(("counts", "days", "unit", "fact", "due"), [
    # before: the morning of the day, moved to the open day before a closed one
    ("before", 7, "calendar", at(2026, 5, 11, 10), at(2026, 5, 1, 9)),    # 5/4 みどりの日 → Fri 5/1
    ("before", 1, "open", at(2026, 1, 5, 10), at(2025, 12, 26, 9)),       # across the year-end closure
    ("before", 0, "calendar", at(2025, 6, 20, 10), at(2025, 6, 20, 9)),   # the morning of the meeting itself
    # after: the moment itself on an open day, else the next open day's morning — never earlier
    ("after", 0, "calendar", at(2025, 9, 1, 14), at(2025, 9, 1, 14)),     # Mon: at the moment
    ("after", 0, "calendar", at(2025, 8, 31, 9), at(2025, 9, 1, 9)),      # Sun → Mon morning
    ("after", 14, "calendar", at(2025, 6, 2, 9), at(2025, 6, 16, 9)),     # 14 days on, a Monday
    ("after", 14, "calendar", at(2025, 6, 1, 9), at(2025, 6, 16, 9)),     # 14 days on is Sun 6/15 → Mon
    ("after", 2, "open", at(2025, 12, 26, 15), at(2026, 1, 6, 15)),       # two open days on, past the closure
])
def test_due_time(counts, days, unit, fact, due):
    assert due_time(rule(counts=counts, days=days, unit=unit), fact, CALENDAR) == due
    if counts == "after":
        assert due_time(rule(counts=counts, days=days, unit=unit), fact, CALENDAR) >= fact


def test_only_a_reminder_ahead_of_its_moment_expires():
    moment = at(2025, 6, 20, 10)
    assert expired(rule(counts="before"), moment, moment)
    assert not expired(rule(counts="before"), moment, moment - timedelta(seconds=1))
    assert not expired(rule(counts="after"), moment, moment + timedelta(days=30))


def test_what_the_facts_call_for():
    now = at(2025, 6, 2, 9)
    rules = [rule("a", days=7, recipients=("members",)), rule("b", days=1, unit="open", recipients=("secretariat",)),
             rule("off", days=3, enabled=False), rule("other", watches="public_comment_end", days=3)]
    people = {("members",): {1, 2}, ("secretariat",): {3}}
    wanted = desired(rules, {"meeting_start": at(2025, 6, 20, 10)}, lambda roles: people[roles], now, CALENDAR)
    assert wanted == {("a", 1): Wanted(at(2025, 6, 20, 10), at(2025, 6, 13, 9)),
                      ("a", 2): Wanted(at(2025, 6, 20, 10), at(2025, 6, 13, 9)),
                      ("b", 3): Wanted(at(2025, 6, 20, 10), at(2025, 6, 19, 9))}
    # a moment already past calls for nothing ahead of it; its due time is never in the past
    assert desired(rules, {"meeting_start": now}, lambda roles: people[roles], now, CALENDAR) == {}
    late = desired([rule("a", days=7)], {"meeting_start": at(2025, 6, 5, 10)}, lambda roles: {1}, now, CALENDAR)
    assert late[("a", 1)].due_at == now


def test_a_new_subject_adds_every_reminder():
    wanted = {("a", 1): Wanted(at(2025, 6, 20, 10), at(2025, 6, 13, 9))}
    decided = plan([], wanted, frozenset(), at(2025, 6, 2, 9))
    assert decided.add == wanted and not (decided.retime or decided.withdraw or decided.changed)


def test_a_moved_moment_retimes_and_tells_those_already_reminded():
    now = at(2025, 6, 14, 9)
    existing = [Existing(1, "a", 7, "sent", at(2025, 6, 20, 10), at(2025, 6, 13, 9)),
                Existing(2, "b", 7, "pending", at(2025, 6, 20, 10), at(2025, 6, 19, 9))]
    wanted = {("a", 7): Wanted(at(2025, 6, 27, 10), at(2025, 6, 20, 9)),
              ("b", 7): Wanted(at(2025, 6, 27, 10), at(2025, 6, 26, 9))}
    decided = plan(existing, wanted, frozenset(), now)
    assert decided.retime == [(1, "pending", at(2025, 6, 27, 10), at(2025, 6, 20, 9)),
                              (2, "pending", at(2025, 6, 27, 10), at(2025, 6, 26, 9))]
    assert decided.changed == [existing[0]] and decided.add == {} and decided.withdraw == []


def test_a_moment_that_is_gone_withdraws_and_tells_those_already_reminded():
    existing = [Existing(1, "a", 7, "sent", at(2025, 6, 20, 10), at(2025, 6, 13, 9)),
                Existing(2, "b", 7, "pending", at(2025, 6, 20, 10), at(2025, 6, 19, 9))]
    decided = plan(existing, {}, frozenset({"a", "b"}), at(2025, 6, 14, 9))
    assert decided.withdraw == [2] and decided.cancelled == [existing[0]] and decided.retime == []


def test_an_unchanged_subject_needs_nothing():
    existing = [Existing(1, "a", 7, "pending", at(2025, 6, 20, 10), at(2025, 6, 13, 9))]
    wanted = {("a", 7): Wanted(at(2025, 6, 20, 10), at(2025, 6, 13, 9))}
    decided = plan(existing, wanted, frozenset(), at(2025, 6, 2, 9))
    assert (decided.add, decided.retime, decided.withdraw, decided.changed, decided.cancelled) == ({}, [], [], [], [])


def test_a_new_due_time_for_the_same_moment_retimes_what_is_still_pending():
    """A rule now counted 10 days ahead, or a day that became a closure day: the moment is the same, but
    the reminder waiting for it goes out at its new time; one already sent is not sent again."""
    existing = [Existing(1, "a", 7, "pending", at(2025, 6, 20, 10), at(2025, 6, 13, 9)),
                Existing(2, "b", 7, "sent", at(2025, 6, 20, 10), at(2025, 6, 3, 9))]
    wanted = {("a", 7): Wanted(at(2025, 6, 20, 10), at(2025, 6, 12, 9)),
              ("b", 7): Wanted(at(2025, 6, 20, 10), at(2025, 6, 2, 9))}
    decided = plan(existing, wanted, frozenset(), at(2025, 6, 5, 9))
    assert decided.retime == [(1, "pending", at(2025, 6, 20, 10), at(2025, 6, 12, 9))]
    assert (decided.add, decided.withdraw, decided.changed) == ({}, [], [])


def test_a_reminder_already_due_keeps_its_due_time():
    """Due and waiting for the next delivery: recomputed with the moment unchanged, it is left alone."""
    now = at(2025, 6, 14, 9)
    existing = [Existing(1, "a", 7, "pending", at(2025, 6, 20, 10), at(2025, 6, 13, 9))]
    wanted = {("a", 7): Wanted(at(2025, 6, 20, 10), now)}
    assert plan(existing, wanted, frozenset(), now).retime == []


def test_a_withdrawn_reminder_comes_back_when_its_moment_does():
    existing = [Existing(1, "a", 7, "withdrawn", at(2025, 6, 20, 10), at(2025, 6, 13, 9))]
    wanted = {("a", 7): Wanted(at(2025, 6, 20, 10), at(2025, 6, 13, 9))}
    assert plan(existing, wanted, frozenset(), at(2025, 6, 2, 9)).retime == [
        (1, "pending", at(2025, 6, 20, 10), at(2025, 6, 13, 9))]
