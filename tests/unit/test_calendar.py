"""The business-day calendar (営業日カレンダー) and Japanese time wording, against known dates.

Holiday facts checked with jpholiday when these tables were written: 2026 has 春分の日 on Fri 3/20,
昭和の日 Wed 4/29, Golden Week Sun 5/3–Wed 5/6 (5/6 振替休日), 海の日 Mon 7/20, and the silver week
Sat 9/19–Wed 9/23 (敬老の日 9/21, 国民の休日 9/22, 秋分の日 9/23); 2027-01-01 (元日) is a Friday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.calendar import (
    DEFAULT_CLOSURE,
    NENMATSU_NENSHI,
    BusinessCalendar,
    _holiday_name,
)
from workflow.clock import TOKYO
from workflow.dates import wareki_datetime, wareki_time

CAL = BusinessCalendar()
D = date.fromisoformat


# -- which days are closed, and why -----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("2026-05-01", None),  # Friday before Golden Week
        ("2026-05-02", "土曜日"),
        ("2026-05-03", "憲法記念日"),  # a holiday on a Sunday: the holiday wins
        ("2026-05-04", "みどりの日"),
        ("2026-05-05", "こどもの日"),
        ("2026-05-06", "振替休日"),  # Wednesday, substituting for Sunday 5/3
        ("2026-05-07", None),
        ("2026-09-18", None),
        ("2026-09-19", "土曜日"),
        ("2026-09-20", "日曜日"),
        ("2026-09-21", "敬老の日"),
        ("2026-09-22", "国民の休日"),  # a weekday sandwiched between two holidays
        ("2026-09-23", "秋分の日"),
        ("2026-09-24", None),
        ("2026-12-28", None),  # Monday, last open day of the year
        ("2026-12-29", "年末年始"),
        ("2026-12-31", "年末年始"),
        ("2027-01-01", "元日"),  # also 年末年始: the national holiday is named
        ("2027-01-02", "年末年始"),  # a Saturday inside the closure
        ("2027-01-03", "年末年始"),
        ("2027-01-04", None),  # Monday, first open day
    ],
)
def test_closed_reason(day: str, reason: str | None) -> None:
    got = CAL.closed_reason(D(day))
    if reason == "振替休日":
        # jpholiday names it after the holiday it replaces, e.g. "憲法記念日 振替休日".
        assert got is not None and got.endswith("振替休日")
    else:
        assert got == reason
    assert CAL.is_open(D(day)) is (reason is None)
    assert CAL.is_closed(D(day)) is (reason is not None)


def test_default_closure_is_nenmatsu_nenshi() -> None:
    year_end = {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}
    assert DEFAULT_CLOSURE == NENMATSU_NENSHI == year_end


@pytest.mark.parametrize(
    ("instant", "reason"),
    [
        # 2026-05-06 00:30 in Tokyo is still 5/5 in UTC: the Tokyo date decides.
        (datetime(2026, 5, 5, 15, 30, tzinfo=UTC), "振替休日"),
        (datetime(2026, 5, 5, 14, 59, tzinfo=UTC), "こどもの日"),
        (datetime(2026, 5, 7, 9, 0), None),  # naive: taken as Tokyo time
    ],
)
def test_datetimes_are_read_as_tokyo_dates(instant: datetime, reason: str | None) -> None:
    got = CAL.closed_reason(instant)
    assert got == reason or (reason == "振替休日" and got is not None and got.endswith(reason))


def test_next_open_day_of_a_datetime_is_a_date() -> None:
    assert CAL.next_open_day(datetime(2026, 5, 2, 16, 0, tzinfo=UTC)) == D("2026-05-07")


# -- configured closure days ------------------------------------------------------------------


def test_configured_closure_replaces_the_default() -> None:
    # An organisation closed for お盆 (8/13–8/15) and nothing at year end.
    cal = BusinessCalendar.from_settings("08-13..08-15", extra_closed=[D("2026-06-05")])
    assert cal.closed_reason(D("2026-08-13")) == "閉庁日"  # Thursday
    assert cal.closed_reason(D("2026-08-14")) == "閉庁日"  # Friday
    assert cal.is_open(D("2026-08-12"))
    assert cal.is_open(D("2026-12-29"))  # Tuesday: no 年末年始 here
    assert cal.closed_reason(D("2026-06-05")) == "臨時閉庁日"  # one-off closure, a Friday
    assert cal.closed_reason(D("2026-05-06")).endswith("振替休日")  # holidays always apply
    assert cal.deadline(D("2026-08-13")) == D("2026-08-17")
    assert cal.send_day(D("2026-08-16")) == D("2026-08-12")


@pytest.mark.parametrize(
    ("setting", "closure_days"),
    [
        ("12-29..01-03", NENMATSU_NENSHI),  # a range across the year end
        ("12-29..01-03,08-15", NENMATSU_NENSHI | {(8, 15)}),
        (" 12-29 .. 01-03 , 8-15 ", NENMATSU_NENSHI | {(8, 15)}),
        ("02-28..03-01", {(2, 28), (2, 29), (3, 1)}),  # 02-29 closes in leap years
        ("05-01", {(5, 1)}),
        ("", set()),
    ],
)
def test_from_settings(setting: str, closure_days: set[tuple[int, int]]) -> None:
    assert BusinessCalendar.from_settings(setting).closure_days == closure_days


def test_closure_days_as_pairs_or_strings() -> None:
    assert BusinessCalendar([(8, 15), "08-16"]).closure_days == {(8, 15), (8, 16)}
    with pytest.raises(ValueError):
        BusinessCalendar([(2, 30)])
    with pytest.raises(TypeError, match="from_settings"):
        BusinessCalendar("12-29..01-03")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("setting", "bad_part"),
    [
        ("12-29..01-03,13-01", "'13-01'"),
        ("12-29..01-03,02-30", "'02-30'"),
        ("12-29..", "'12-29..'"),
        ("1229", "'1229'"),
        ("12-29..01-03,,08-15", "''"),
        ("12/29", "'12/29'"),
    ],
)
def test_from_settings_names_the_bad_part(setting: str, bad_part: str) -> None:
    with pytest.raises(ValueError, match=f"bad closure part {bad_part}"):
        BusinessCalendar.from_settings(setting)


def test_every_day_closed_is_refused_rather_than_looping() -> None:
    cal = BusinessCalendar.from_settings("01-01..12-31")
    with pytest.raises(ValueError, match="no open day"):
        cal.next_open_day(D("2026-06-01"))


# -- deadlines, reminders and periods ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        ("2015-06-22", 30, "2015-07-21"),  # Chiba (DOMAIN.md): open Tuesday, after 海の日 7/20
        ("2014-11-25", 30, "2014-12-24"),  # Nagasaki
        ("2026-05-15", 30, "2026-06-15"),  # nominal Sat 6/13 → Monday
        ("2026-06-21", 30, "2026-07-21"),  # nominal 海の日 Mon 7/20 → Tuesday
        ("2026-04-07", 30, "2026-05-07"),  # nominal 振替休日 Wed 5/6 → Thursday
        ("2026-08-24", 30, "2026-09-24"),  # nominal 国民の休日 Tue 9/22 → Thursday
        ("2026-11-30", 30, "2027-01-04"),  # nominal 12/29 → past 年末年始
        ("2026-06-01", 1, "2026-06-01"),  # a one-day period ends where it starts
    ],
)
def test_period_end(start: str, days: int, end: str) -> None:
    assert CAL.period_end(D(start), days) == D(end)


def test_period_needs_a_day() -> None:
    with pytest.raises(ValueError):
        CAL.period_end(D("2026-06-01"), 0)


@pytest.mark.parametrize(
    ("due", "deadline"),
    [
        ("2026-05-07", "2026-05-07"),  # open: unchanged
        ("2026-05-02", "2026-05-07"),  # Saturday of Golden Week
        ("2026-09-19", "2026-09-24"),  # silver week
        ("2026-12-29", "2027-01-04"),
        ("2027-03-21", "2027-03-23"),  # 春分の日 on Sunday, 振替休日 Monday
    ],
)
def test_deadline_moves_to_next_open_day(due: str, deadline: str) -> None:
    assert CAL.deadline(D(due)) == D(deadline)


@pytest.mark.parametrize(
    ("due", "send"),
    [
        ("2026-06-03", "2026-06-03"),  # open Wednesday: unchanged
        ("2026-09-20", "2026-09-18"),  # Sunday → the Friday before
        ("2026-03-22", "2026-03-19"),  # Sunday, Friday 3/20 is 春分の日 → Thursday
        ("2026-05-03", "2026-05-01"),  # Sunday 憲法記念日 → Friday
        ("2026-05-06", "2026-05-01"),  # 振替休日 → back over Golden Week
        ("2026-09-22", "2026-09-18"),  # 国民の休日 → back over the silver week
        ("2027-01-03", "2026-12-28"),  # Sunday, Friday is 元日, 12/29–31 closed → Monday
    ],
)
def test_reminder_goes_out_on_open_day_before(due: str, send: str) -> None:
    assert CAL.send_day(D(due)) == D(send)


@pytest.mark.parametrize(
    ("day", "include_today", "after", "before"),
    [
        ("2026-05-01", True, "2026-05-01", "2026-05-01"),
        ("2026-05-01", False, "2026-05-07", "2026-04-30"),
        ("2026-05-04", True, "2026-05-07", "2026-05-01"),
        ("2026-05-04", False, "2026-05-07", "2026-05-01"),
        ("2026-12-28", False, "2027-01-04", "2026-12-25"),
    ],
)
def test_next_and_previous_open_day(day: str, include_today: bool, after: str, before: str) -> None:
    assert CAL.next_open_day(D(day), include_today=include_today) == D(after)
    assert CAL.previous_open_day(D(day), include_today=include_today) == D(before)


# -- adding and counting open days ------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "n", "result"),
    [
        ("2026-04-28", 1, "2026-04-30"),  # over 昭和の日
        ("2026-04-30", 1, "2026-05-01"),
        ("2026-05-01", 1, "2026-05-07"),  # over Golden Week
        ("2026-04-27", 4, "2026-05-07"),  # 4/28, 4/30, 5/1, 5/7
        ("2026-05-07", -1, "2026-05-01"),
        ("2026-05-07", -4, "2026-04-27"),
        ("2026-09-18", 1, "2026-09-24"),  # over the silver week
        ("2026-12-28", 1, "2027-01-04"),  # over the year end
        ("2026-12-25", 2, "2027-01-04"),
        ("2027-01-04", -1, "2026-12-28"),
        ("2026-05-02", 1, "2026-05-07"),  # from a closed day: its first open day after
        ("2026-05-03", -1, "2026-05-01"),
        ("2026-05-01", 0, "2026-05-01"),  # n = 0: the day itself when open…
        ("2026-05-02", 0, "2026-05-07"),  # …else the next open day
    ],
)
def test_add_open_days(day: str, n: int, result: str) -> None:
    assert CAL.add_open_days(D(day), n) == D(result)


@pytest.mark.parametrize(
    ("first", "last", "count"),
    [
        ("2026-04-27", "2026-05-08", 6),  # 4/27, 4/28, 4/30, 5/1, 5/7, 5/8
        ("2026-05-02", "2026-05-06", 0),  # all of Golden Week's tail
        ("2026-09-14", "2026-09-25", 7),  # 9/14–18, 9/24, 9/25
        ("2026-12-25", "2027-01-05", 4),  # 12/25, 12/28, 1/4, 1/5
        ("2026-12-28", "2026-12-28", 1),
        ("2026-12-29", "2026-12-28", 0),  # last before first: empty
        # 365 - 104 weekend days - 17 holidays on weekdays (元日 included) - 1/2, 12/29, 12/30, 12/31
        ("2026-01-01", "2026-12-31", 240),
    ],
)
def test_count_open_days(first: str, last: str, count: int) -> None:
    assert CAL.count_open_days(D(first), D(last)) == count


def test_holiday_lookups_are_cached() -> None:
    CAL.count_open_days(D("2026-01-01"), D("2026-12-31"))
    hits = _holiday_name.cache_info().hits
    CAL.count_open_days(D("2026-01-01"), D("2026-12-31"))
    assert _holiday_name.cache_info().hits >= hits + 365


# -- properties -------------------------------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(days)
def test_is_open_matches_the_rules(day: date) -> None:
    closed = (
        day.weekday() >= 5
        or jpholiday.is_holiday(day)
        or (day.month, day.day) in {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}
    )
    assert CAL.is_open(day) is not closed


@given(days, st.booleans())
def test_next_open_day_is_the_first_open_day_on_or_after(day: date, include_today: bool) -> None:
    found = CAL.next_open_day(day, include_today=include_today)
    assert CAL.is_open(found)
    assert found >= day if include_today else found > day
    # Nothing open was skipped on the way.
    first = day if include_today else day + timedelta(days=1)
    assert CAL.count_open_days(first, found) == 1


@given(days, st.booleans())
def test_previous_open_day_is_the_last_open_day_on_or_before(
    day: date, include_today: bool
) -> None:
    found = CAL.previous_open_day(day, include_today=include_today)
    assert CAL.is_open(found)
    assert found <= day if include_today else found < day
    last = day if include_today else day - timedelta(days=1)
    assert CAL.count_open_days(found, last) == 1


@given(days, st.integers(min_value=0, max_value=80))
def test_add_then_count_open_days(day: date, n: int) -> None:
    a = CAL.next_open_day(day)
    assert CAL.count_open_days(a, CAL.add_open_days(a, n)) == n + 1
    assert CAL.count_open_days(CAL.add_open_days(a, -n), a) == n + 1
    assert CAL.add_open_days(CAL.add_open_days(a, n), -n) == a


@given(days)
def test_deadline_never_earlier_and_reminder_never_later(day: date) -> None:
    assert CAL.deadline(day) >= day
    assert CAL.send_day(day) <= day
    assert (CAL.deadline(day) == day) is CAL.is_open(day) is (CAL.send_day(day) == day)


# -- Japanese wording -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "text"),
    [
        (time(10, 0), "午前10時"),
        (time(13, 30), "午後1時30分"),
        (time(12, 0), "正午"),
        (time(0, 0), "午前0時"),
        (time(0, 5), "午前0時5分"),
        (time(9, 45, 59), "午前9時45分"),  # seconds dropped
        (time(11, 59), "午前11時59分"),
        (time(12, 30), "午後0時30分"),
        (time(23, 0), "午後11時"),
    ],
)
def test_wareki_time(t: time, text: str) -> None:
    assert wareki_time(t) == text


@pytest.mark.parametrize(
    ("dt", "text"),
    [
        (datetime(2025, 12, 21, 1, 0, tzinfo=UTC), "令和7年12月21日（日）午前10時"),
        (datetime(2025, 12, 21, 10, 0, tzinfo=TOKYO), "令和7年12月21日（日）午前10時"),
        (datetime(2025, 12, 21, 10, 0), "令和7年12月21日（日）午前10時"),  # naive: Tokyo time
        # 20:30 in New York on 12/20 is already 10:30 on Sunday 12/21 in Tokyo.
        (
            datetime(2025, 12, 20, 20, 30, tzinfo=ZoneInfo("America/New_York")),
            "令和7年12月21日（日）午前10時30分",
        ),
        (datetime(2019, 5, 1, 12, 0, tzinfo=TOKYO), "令和元年5月1日（水）正午"),
        (datetime(2023, 11, 16, 4, 30, tzinfo=UTC), "令和5年11月16日（木）午後1時30分"),
    ],
)
def test_wareki_datetime(dt: datetime, text: str) -> None:
    assert wareki_datetime(dt) == text
