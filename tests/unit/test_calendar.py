"""The business-day calendar (営業日カレンダー) and Japanese time wording, against known dates.

Holiday facts as in the Cabinet Office's list (fixtures/holidays/syukujitsu.csv): 2026 has 春分の日 on
Fri 3/20, 昭和の日 Wed 4/29, Golden Week Sun 5/3–Wed 5/6 (5/6 振替休日), 海の日 Mon 7/20, and the
silver week Sat 9/19–Wed 9/23 (敬老の日 9/21, 国民の休日 9/22, 秋分の日 9/23); 2027-01-01 (元日) is a
Friday.

National holidays are checked day by day against two published data sets and, for every date the
service accepts (states.definition.EARLIEST_DATE to LATEST_DATE), against an implementation of the
law written here independently of jpholiday (fixtures/holidays/README.md).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from states.definition import EARLIEST_DATE, LATEST_DATE
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


# -- national holidays: the published data and the law, every day ----------------------------
#
# An implementation of 国民の祝日に関する法律 written from the Act and its amendments, sharing no code
# with jpholiday: its day-by-day agreement with the Cabinet Office's list (1955–2027) and holiday_jp
# (1970–2050) is what makes it a reference for the years no list covers yet (to LATEST_DATE).

HOLIDAY_DATA = Path(__file__).parent / "fixtures" / "holidays"
LAW_FROM = date(1948, 7, 20)  # 国民の祝日に関する法律 (昭和23年法律第178号) in force
FURIKAE_FROM = date(1973, 4, 12)  # 第3条第2項 振替休日 (昭和48年法律第10号)
KOKUMIN_FROM = date(1985, 12, 27)  # 第3条第3項 国民の休日 (昭和60年法律第103号)
REVISED_2007 = date(2007, 1, 1)  # 平成17年法律第43号: 振替休日 to the next non-holiday, 昭和の日
FOREVER = 9999
ONE_DAY = timedelta(days=1)


def equinox_day(year: int, spring: bool) -> int:
    """春分 (spring) or 秋分 day of the month by the standard formula (valid 1900–2150).

    The Act names no date: the Cabinet Office adopts the day the National Astronomical Observatory
    of Japan publishes each February for the next year; the formula gives those days.
    """
    if year < 1980:
        base, leap_days = (20.8357 if spring else 23.2588), int((year - 1983) / 4)
    elif year < 2100:
        base, leap_days = (20.8431 if spring else 23.2488), int((year - 1980) / 4)
    else:
        base, leap_days = (21.8510 if spring else 24.2488), int((year - 1980) / 4)
    return int(base + 0.242194 * (year - 1980) - leap_days)


def _on(month: int, day: int) -> Callable[[int], date]:
    return lambda year: date(year, month, day)


def _monday(month: int, n: int) -> Callable[[int], date]:
    """The n-th Monday of the month (ハッピーマンデー)."""

    def nth_monday(year: int) -> date:
        first = date(year, month, 1)
        return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))

    return nth_monday


#: 国民の祝日 (第2条) as (name, first year, last year, its day in a year). 2020 and 2021 are left out
#: of 海の日, スポーツの日 and 山の日: the Olympic special measures moved them (ONE_OFF_DAYS).
SHUKUJITSU_RULES: list[tuple[str, int, int, Callable[[int], date]]] = [
    ("元日", 1948, FOREVER, _on(1, 1)),
    ("成人の日", 1948, 1999, _on(1, 15)),
    ("成人の日", 2000, FOREVER, _monday(1, 2)),
    ("建国記念の日", 1967, FOREVER, _on(2, 11)),
    ("天皇誕生日", 2020, FOREVER, _on(2, 23)),
    ("春分の日", 1948, FOREVER, lambda year: date(year, 3, equinox_day(year, spring=True))),
    ("天皇誕生日", 1948, 1988, _on(4, 29)),
    ("みどりの日", 1989, 2006, _on(4, 29)),
    ("昭和の日", 2007, FOREVER, _on(4, 29)),
    ("憲法記念日", 1948, FOREVER, _on(5, 3)),
    ("みどりの日", 2007, FOREVER, _on(5, 4)),
    ("こどもの日", 1948, FOREVER, _on(5, 5)),
    ("海の日", 1996, 2002, _on(7, 20)),
    ("海の日", 2003, 2019, _monday(7, 3)),
    ("海の日", 2022, FOREVER, _monday(7, 3)),
    ("山の日", 2016, 2019, _on(8, 11)),
    ("山の日", 2022, FOREVER, _on(8, 11)),
    ("敬老の日", 1966, 2002, _on(9, 15)),
    ("敬老の日", 2003, FOREVER, _monday(9, 3)),
    ("秋分の日", 1948, FOREVER, lambda year: date(year, 9, equinox_day(year, spring=False))),
    ("体育の日", 1966, 1999, _on(10, 10)),
    ("体育の日", 2000, 2019, _monday(10, 2)),
    ("スポーツの日", 2022, FOREVER, _monday(10, 2)),
    ("文化の日", 1948, FOREVER, _on(11, 3)),
    ("勤労感謝の日", 1948, FOREVER, _on(11, 23)),
    ("天皇誕生日", 1989, 2018, _on(12, 23)),
]

#: Days set by their own Acts: the one-off days off (皇室の慶事・大喪, counted as 国民の祝日 for 振替休日
#: and 国民の休日, as 平成30年法律第99号 says for 2019), and the Olympic years' moved holidays.
ONE_OFF_DAYS: dict[date, str] = {
    date(1959, 4, 10): "皇太子明仁親王の結婚の儀",  # 昭和34年法律第16号
    date(1989, 2, 24): "昭和天皇の大喪の礼",  # 平成元年法律第4号
    date(1990, 11, 12): "即位礼正殿の儀",  # 平成2年法律第24号
    date(1993, 6, 9): "皇太子徳仁親王の結婚の儀",  # 平成5年法律第32号
    date(2019, 5, 1): "天皇の即位の日",  # 平成30年法律第99号
    date(2019, 10, 22): "即位礼正殿の儀",  # 平成30年法律第99号
    date(2020, 7, 23): "海の日",  # the Tokyo 2020 special measures Act (amended 2018)
    date(2020, 7, 24): "スポーツの日",
    date(2020, 8, 10): "山の日",
    date(2021, 7, 22): "海の日",  # the same Act, amended again in 2020
    date(2021, 7, 23): "スポーツの日",
    date(2021, 8, 8): "山の日",
}


def _shukujitsu(year: int) -> dict[date, str]:
    days = {rule(year): name for name, first, last, rule in SHUKUJITSU_RULES if first <= year <= last}
    days |= {day: name for day, name in ONE_OFF_DAYS.items() if day.year == year}
    return {day: name for day, name in days.items() if day >= LAW_FROM}


@cache
def law_holidays(year: int) -> dict[date, str]:
    """Every national holiday of the year by the law then in force, named as the calendar names it."""
    shukujitsu = _shukujitsu(year - 1) | _shukujitsu(year) | _shukujitsu(year + 1)
    days = dict(shukujitsu)
    for day, name in sorted(shukujitsu.items()):
        if day.weekday() != 6 or day < FURIKAE_FROM:
            continue
        substitute = day + ONE_DAY  # until 2006: the next day, unless it is a holiday itself
        while day >= REVISED_2007 and substitute in shukujitsu:  # since 2007: the next non-holiday
            substitute += ONE_DAY
        if substitute not in shukujitsu:
            days[substitute] = f"{name} 振替休日"
    for day in sorted(shukujitsu):
        between = day + ONE_DAY
        if between < KOKUMIN_FROM or between in shukujitsu or between + ONE_DAY not in shukujitsu:
            continue
        if between < REVISED_2007 and (between.weekday() == 6 or between in days):
            continue  # until 2006 neither a Sunday nor a 振替休日
        days.setdefault(between, "国民の休日")  # since 2007 a 振替休日 in between keeps its name
    return {day: name for day, name in days.items() if day.year == year}


def law_holiday(day: date) -> str | None:
    return law_holidays(day.year).get(day)


@cache
def cabinet_office_list() -> dict[date, str]:
    """内閣府「国民の祝日について」syukujitsu.csv: 1955-01-01 to 2027-12-31."""
    with (HOLIDAY_DATA / "syukujitsu.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["国民の祝日・休日月日", "国民の祝日・休日名称"]
    return {datetime.strptime(day, "%Y/%m/%d").date(): name for day, name in rows[1:]}


@cache
def holiday_jp_list() -> dict[date, str]:
    """holiday_jp's holidays.yml: 1970-01-01 to 2050-12-31."""
    data = yaml.safe_load((HOLIDAY_DATA / "holidays.yml").read_text(encoding="utf-8"))
    assert all(isinstance(day, date) and isinstance(name, str) for day, name in data.items())
    return dict(data)


PUBLISHED = {  # name: (the list, first day, last day it covers)
    "cabinet_office": (cabinet_office_list, date(1955, 1, 1), date(2027, 12, 31)),
    "holiday_jp": (holiday_jp_list, date(1970, 1, 1), date(2050, 12, 31)),
}

#: Where both lists write a name differently from the calendar, which uses the names of the Acts.
PUBLISHED_NAMES: dict[date, str] = {
    date(1959, 4, 10): "結婚の儀",
    date(1989, 2, 24): "大喪の礼",
    date(1993, 6, 9): "結婚の儀",
    date(2019, 5, 1): "休日（祝日扱い）",
    date(2019, 10, 14): "体育の日（スポーツの日）",
    date(2019, 10, 22): "休日（祝日扱い）",
}


def same_holiday(day: date, ours: str | None, published: str | None) -> bool:
    """Whether the calendar's name and a published one name the same day off (or both none).

    Both lists write a 振替休日 or a 国民の休日 as 休日; holiday_jp names a 振替休日 after the holiday
    just before it (2009-05-06 こどもの日 振替休日, for Sunday 5/3 憲法記念日), the calendar after the
    holiday on the Sunday it replaces (憲法記念日 振替休日, as law_holidays does).
    """
    if ours is None or published is None:
        return ours is published
    if published == "休日":
        return ours == "国民の休日" or ours.endswith(" 振替休日")
    if published.endswith(" 振替休日"):
        return ours.endswith(" 振替休日")
    return published in (ours, PUBLISHED_NAMES.get(day))


def each_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def expected_open(day: date, holiday: str | None) -> bool:
    return day.weekday() < 5 and holiday is None and (day.month, day.day) not in NENMATSU_NENSHI


@pytest.mark.parametrize("source", PUBLISHED)
def test_the_law_as_written_here_gives_the_published_lists(source: str) -> None:
    published, first, last = PUBLISHED[source]
    data = published()
    assert min(data) >= first and max(data) <= last
    differ = [
        (day, law_holiday(day), data.get(day))
        for day in each_day(first, last)
        if not same_holiday(day, law_holiday(day), data.get(day))
    ]
    assert differ == []


@pytest.mark.parametrize("source", PUBLISHED)
def test_holidays_are_the_published_ones(source: str) -> None:
    """Every day the list covers: the calendar's holiday and open/closed agree with the list."""
    published, first, last = PUBLISHED[source]
    data = published()
    differ = [
        (day, _holiday_name(day), data.get(day))
        for day in each_day(first, last)
        if not same_holiday(day, _holiday_name(day), data.get(day))
        or CAL.is_open(day) is not expected_open(day, data.get(day))
    ]
    assert differ == []


DECADES = [
    (max(date(year, 1, 1), EARLIEST_DATE), min(date(year + 9, 12, 31), LATEST_DATE))
    for year in range(EARLIEST_DATE.year // 10 * 10, LATEST_DATE.year + 1, 10)
]


@pytest.mark.parametrize(("first", "last"), DECADES, ids=[f"{first.year}s" for first, _ in DECADES])
def test_holidays_follow_the_law_on_every_date_the_service_accepts(first: date, last: date) -> None:
    """Beyond the published lists (2051–2100) the law as written here is the reference."""
    differ = [
        (day, _holiday_name(day), law_holiday(day))
        for day in each_day(first, last)
        if _holiday_name(day) != law_holiday(day)
        or CAL.is_open(day) is not expected_open(day, law_holiday(day))
    ]
    assert differ == []


def test_the_window_is_covered() -> None:
    assert DECADES[0][0] == EARLIEST_DATE and DECADES[-1][1] == LATEST_DATE
    assert all(b + ONE_DAY == c for (_, b), (c, _) in zip(DECADES, DECADES[1:], strict=False))


@pytest.mark.parametrize("year", range(EARLIEST_DATE.year, LATEST_DATE.year + 1))
def test_equinoxes_are_the_standard_formulas_days(year: int) -> None:
    march = [day for day in each_day(date(year, 3, 1), date(year, 3, 31)) if _holiday_name(day) == "春分の日"]
    september = [day for day in each_day(date(year, 9, 1), date(year, 9, 30)) if _holiday_name(day) == "秋分の日"]
    assert march == [date(year, 3, equinox_day(year, spring=True))]
    assert september == [date(year, 9, equinox_day(year, spring=False))]


@pytest.mark.parametrize(
    ("day", "name"),
    [
        # the equinoxes the National Astronomical Observatory published, and the formula's future
        ("2012-09-22", "秋分の日"),  # the first 9/22 under the Act
        ("2026-03-20", "春分の日"),
        ("2026-09-23", "秋分の日"),
        ("2027-03-21", "春分の日"),
        ("2027-09-23", "秋分の日"),
        ("2092-03-19", "春分の日"),  # computed: the first 3/19 under the Act
        ("2100-03-20", "春分の日"),  # 2100 is no leap year: the formula's next period
        ("2100-09-23", "秋分の日"),
        # 振替休日 from 1973-04-12 (the next day until 2006, the next non-holiday since 2007)
        ("1973-02-12", None),  # Monday after Sunday 建国記念の日: before the amendment
        ("1973-04-30", "天皇誕生日 振替休日"),  # the first 振替休日
        ("2006-01-02", "元日 振替休日"),
        ("2008-05-06", "みどりの日 振替休日"),  # Sunday 5/4 → Tuesday 5/6, past こどもの日
        ("2009-05-06", "憲法記念日 振替休日"),  # Sunday 5/3 → Wednesday 5/6
        ("2021-08-09", "山の日 振替休日"),  # the Olympic 山の日 fell on Sunday 8/8
        # 国民の休日 from 1985-12-27
        ("1985-05-04", None),
        ("1987-05-04", "憲法記念日 振替休日"),  # a 振替休日, not a 国民の休日
        ("1988-05-04", "国民の休日"),  # the first
        ("2009-09-22", "国民の休日"),  # the first in September
        ("2026-09-22", "国民の休日"),
        ("2032-09-21", "国民の休日"),
        # one-off days off
        ("1959-04-10", "皇太子明仁親王の結婚の儀"),
        ("1989-02-24", "昭和天皇の大喪の礼"),
        ("1990-11-12", "即位礼正殿の儀"),
        ("1993-06-09", "皇太子徳仁親王の結婚の儀"),
        ("2019-04-30", "国民の休日"),  # between 昭和の日 and 天皇の即位の日
        ("2019-05-01", "天皇の即位の日"),
        ("2019-05-02", "国民の休日"),
        ("2019-10-22", "即位礼正殿の儀"),
        ("2019-12-23", None),  # no 天皇誕生日 in 2019
        # the Olympic moves
        ("2020-07-23", "海の日"),
        ("2020-07-24", "スポーツの日"),
        ("2020-08-10", "山の日"),
        ("2020-07-20", None),
        ("2020-08-11", None),
        ("2020-10-12", None),
        ("2021-07-22", "海の日"),
        ("2021-07-23", "スポーツの日"),
        ("2021-08-08", "山の日"),
        ("2021-07-19", None),
        ("2021-08-11", None),
        ("2021-10-11", None),
        # before the Act came into force on 1948-07-20
        ("1948-05-03", None),
        ("1948-09-23", "秋分の日"),
        ("1900-01-01", None),
    ],
)
def test_well_known_holidays(day: str, name: str | None) -> None:
    assert _holiday_name(D(day)) == name
    assert law_holiday(D(day)) == name


# -- properties -------------------------------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(days)
def test_is_open_matches_the_rules(day: date) -> None:
    closed = (
        day.weekday() >= 5
        or day in law_holidays(day.year)
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
