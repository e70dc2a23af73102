"""The business-day calendar (営業日カレンダー) behind every deadline and reminder.

Offices are closed on Saturdays, Sundays, national holidays (国民の祝日, 振替休日, 国民の休日) and
the organisation's closure days: by default the year-end closure 12/29–1/3 (年末年始), configurable
per organisation (地方自治法第4条の2, 休日条例). Days are dates in Asia/Tokyo; a `datetime` passed in is
first converted to its Tokyo date.

National holidays are computed by `jpholiday` (the rules of 国民の祝日に関する法律, 春分の日 and 秋分の日
by astronomical calculation) through a small correction layer below, because jpholiday applies
today's rules to every year: no holiday before the Act came into force (1948-07-20), no 振替休日
before 1973-04-12, no 国民の休日 before 1985-12-27, and the one-off days off under the names of their
own Acts. Checked day by day against the Cabinet Office's syukujitsu.csv (1955–2027), holiday_jp's
holidays.yml (1970–2050) and an independent implementation of the rules for every date the service
accepts (2000–2100): tests/unit/fixtures/holidays/README.md.

A deadline on a closed day moves to the next open day; a reminder that would go out on a closed day
goes out on the open day before (GLOSSARY.md: 開庁日・閉庁日).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache

import jpholiday

from workflow.clock import TOKYO

#: A recurring closure day as (month, day), e.g. (12, 29).
MonthDay = tuple[int, int]

#: 年末年始: 12/29–1/3 inclusive, across the year boundary.
NENMATSU_NENSHI: frozenset[MonthDay] = frozenset(
    {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}
)
DEFAULT_CLOSURE: frozenset[MonthDay] = NENMATSU_NENSHI
#: The same, written as an organisation's setting is (BusinessCalendar.from_settings).
DEFAULT_CLOSURE_SETTING = "12-29..01-03"

# Reasons closed_reason() gives for days that are not national holidays.
DOYOUBI = "土曜日"
NICHIYOUBI = "日曜日"
NENMATSU_NENSHI_REASON = "年末年始"
HEICHOUBI = "閉庁日"  # an organisation's own recurring closure day outside 年末年始
RINJI_HEICHOUBI = "臨時閉庁日"  # a one-off closure (extra_closed)

# No real calendar has a run of closed days this long; stepping further means every day is closed.
_MAX_STEPS = 400
_LEAP_YEAR = 2000  # to validate month-days, 02-29 included
_MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})")
_YEAR: list[MonthDay] = [  # every month-day of a leap year, in order
    (day.month, day.day)
    for day in (date(_LEAP_YEAR, 1, 1) + timedelta(days=i) for i in range(366))
]

# -- national holidays: jpholiday, corrected to the law of the time ----------------------------
FURIKAE_KYUJITSU = "振替休日"  # named after the holiday it replaces: "憲法記念日 振替休日"
KOKUMIN_NO_KYUJITSU = "国民の休日"  # a weekday between two holidays
#: 国民の祝日に関する法律 (昭和23年法律第178号) came into force on 1948-07-20; jpholiday also names days
#: before it (1948-01-01 元日, even 1900-05-03 憲法記念日).
SHUKUJITSU_HOU_FROM = date(1948, 7, 20)
#: Days off that later amendments created, and when each came into force; jpholiday applies them to
#: every year (it has 振替休日 from 1973-01-01, so 1973-02-12, and 国民の休日 on every May 4 between
#: two holidays, 1949–1985).
IN_FORCE_FROM: dict[str, date] = {
    FURIKAE_KYUJITSU: date(1973, 4, 12),  # 第3条第2項, 昭和48年法律第10号 (施行 1973-04-12)
    KOKUMIN_NO_KYUJITSU: date(1985, 12, 27),  # 第3条第3項, 昭和60年法律第103号 (施行 1985-12-27)
}
#: One-off days off, each by its own Act, under that Act's name where jpholiday's differs.
LEGAL_NAMES: dict[date, str] = {
    date(1959, 4, 10): "皇太子明仁親王の結婚の儀",  # 昭和34年法律第16号 (jpholiday: 皇太子・明仁親王の…)
    date(1990, 11, 12): "即位礼正殿の儀",  # 平成2年法律第24号 (jpholiday: 即位の礼正殿の儀)
    date(1993, 6, 9): "皇太子徳仁親王の結婚の儀",  # 平成5年法律第32号 (jpholiday: 皇太子・皇太子徳仁親王の…)
}


@lru_cache(maxsize=8192)
def _holiday_name(day: date) -> str | None:
    """The national holiday's name, else None: jpholiday's, corrected to the law of the time.

    Cached: jpholiday checks every rule for every day.
    """
    name = jpholiday.is_holiday_name(day)
    if name is None:
        return None
    kind = FURIKAE_KYUJITSU if name.endswith(FURIKAE_KYUJITSU) else name
    if day < IN_FORCE_FROM.get(kind, SHUKUJITSU_HOU_FROM):
        return None
    return LEGAL_NAMES.get(day, name)


def as_tokyo_date(day: date | datetime) -> date:
    """The date in Asia/Tokyo: aware datetimes are converted, naive ones taken as Tokyo time."""
    if isinstance(day, datetime):
        return (day.astimezone(TOKYO) if day.tzinfo is not None else day).date()
    return day


class BusinessCalendar:
    """Which days the office is open, and deadline and reminder arithmetic over them.

    `closure_days` are recurring (month, day) pairs or "MM-DD" strings; `extra_closed` are one-off
    closed dates (e.g. a 臨時閉庁日). An instance is never changed after construction, so it can be
    shared between threads.
    """

    def __init__(
        self,
        closure_days: Iterable[MonthDay | str] = DEFAULT_CLOSURE,
        extra_closed: Iterable[date] = (),
    ):
        if isinstance(closure_days, str):
            raise TypeError("closure_days is a collection of days; parse text with from_settings")
        self.closure_days: frozenset[MonthDay] = frozenset(
            _parse_month_day(d) if isinstance(d, str) else _check_month_day(d) for d in closure_days
        )
        self.extra_closed: frozenset[date] = frozenset(as_tokyo_date(d) for d in extra_closed)

    @classmethod
    def from_settings(cls, closure: str, extra_closed: Iterable[date] = ()) -> BusinessCalendar:
        """A calendar from a setting such as "12-29..01-03,08-15".

        Comma-separated parts, each "MM-DD" or a range "MM-DD..MM-DD" (inclusive; a range whose end
        comes before its start runs across the year end). A blank setting means no closure days.
        Raises ValueError naming the part that cannot be read.
        """
        days: set[MonthDay] = set()
        if closure.strip():
            for part in closure.split(","):
                days |= _parse_closure_part(part.strip(), closure)
        return cls(days, extra_closed)

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(closure_days={sorted(self.closure_days)}, "
            f"extra_closed={sorted(self.extra_closed)})"
        )

    # -- single days -------------------------------------------------------------------------

    def closed_reason(self, day: date | datetime) -> str | None:
        """Why the office is closed that day (e.g. 日曜日, 振替休日, 年末年始), or None when open.

        When several reasons apply the most specific wins: national holiday, then the
        organisation's closure, then a one-off closure, then the weekend (so 2027-01-01 is 元日).
        """
        day = as_tokyo_date(day)
        if name := _holiday_name(day):
            return name
        if (day.month, day.day) in self.closure_days:
            return NENMATSU_NENSHI_REASON if (day.month, day.day) in NENMATSU_NENSHI else HEICHOUBI
        if day in self.extra_closed:
            return RINJI_HEICHOUBI
        weekday = day.weekday()
        if weekday == 5:
            return DOYOUBI
        if weekday == 6:
            return NICHIYOUBI
        return None

    def is_closed(self, day: date | datetime) -> bool:
        """True on Saturdays, Sundays, national holidays and the organisation's closure days."""
        return self.closed_reason(day) is not None

    def is_open(self, day: date | datetime) -> bool:
        """True when the office is open that day."""
        return self.closed_reason(day) is None

    # -- moving to an open day ---------------------------------------------------------------

    def next_open_day(self, day: date | datetime, include_today: bool = True) -> date:
        """The first open day on or after `day` (strictly after it when include_today is False)."""
        return self._step_to_open(as_tokyo_date(day), 1, include_today)

    def previous_open_day(self, day: date | datetime, include_today: bool = True) -> date:
        """The last open day on or before `day` (strictly before it when include_today is False)."""
        return self._step_to_open(as_tokyo_date(day), -1, include_today)

    def deadline(self, day: date | datetime) -> date:
        """A deadline falling on a closed day moves to the next open day."""
        return self.next_open_day(day)

    def send_day(self, day: date | datetime) -> date:
        """A reminder due on a closed day goes out on the open day before, so it is never late."""
        return self.previous_open_day(day)

    def period_end(self, start: date | datetime, days: int) -> date:
        """The deadline of a period of `days` calendar days counted from `start` inclusive.

        The nominal last day is start + days - 1 (a 30-day public comment from 2015-06-22 ends on
        2015-07-21); when that day is closed the deadline moves to the next open day.
        """
        if days < 1:
            raise ValueError(f"a period needs at least one day, not {days}")
        return self.deadline(as_tokyo_date(start) + timedelta(days=days - 1))

    # -- counting open days ------------------------------------------------------------------

    def add_open_days(self, day: date | datetime, n: int) -> date:
        """The n-th open day after `day` (before it when n is negative); `day` itself never counts.

        n = 0 gives `day` if it is open, else the next open day — i.e. "the earliest open day
        from `day`", which is what a 0-business-day deadline means. So Friday + 1 is Monday,
        Saturday + 1 is also Monday, and Sunday - 1 is Friday.
        """
        current = as_tokyo_date(day)
        if n == 0:
            return self.next_open_day(current)
        direction = 1 if n > 0 else -1
        for _ in range(abs(n)):
            current = self._step_to_open(current, direction, include_today=False)
        return current

    def count_open_days(self, first: date | datetime, last: date | datetime) -> int:
        """Open days from `first` to `last`, both included; 0 when last is before first."""
        day, last = as_tokyo_date(first), as_tokyo_date(last)
        count = 0
        while day <= last:
            count += self.is_open(day)
            day += timedelta(days=1)
        return count

    def _step_to_open(self, day: date, direction: int, include_today: bool) -> date:
        step, start = timedelta(days=direction), day
        if not include_today:
            day += step
        for _ in range(_MAX_STEPS):
            if self.is_open(day):
                return day
            day += step
        raise ValueError(f"no open day within {_MAX_STEPS} days of {start}: is every day closed?")


def _check_month_day(month_day: MonthDay) -> MonthDay:
    month, day = month_day
    date(_LEAP_YEAR, month, day)  # raises ValueError for 13-01, 02-30 and the like
    return (month, day)


def _parse_month_day(text: str) -> MonthDay:
    match = _MONTH_DAY.fullmatch(text.strip())
    if not match:
        raise ValueError(f"closure day {text!r} is not MM-DD")
    month_day = (int(match[1]), int(match[2]))
    try:
        return _check_month_day(month_day)
    except ValueError:
        raise ValueError(f"closure day {text!r} is not a day of the year") from None


def _parse_closure_part(part: str, setting: str) -> set[MonthDay]:
    """One part of a closure setting: "MM-DD" or "MM-DD..MM-DD" (may wrap past 12-31)."""
    try:
        first_text, dots, last_text = part.partition("..")
        first = _parse_month_day(first_text)
        if not dots:
            return {first}
        last = _parse_month_day(last_text)
    except ValueError as error:
        raise ValueError(
            f"bad closure part {part!r} in {setting!r} ({error}); "
            'expected "MM-DD" or "MM-DD..MM-DD", comma-separated'
        ) from None
    # Ranges run over the month-days of a leap year (so 02-29 is included), wrapping past 12-31.
    i, j = _YEAR.index(first), _YEAR.index(last)
    return set(_YEAR[i : j + 1] if i <= j else _YEAR[i:] + _YEAR[: j + 1])


#: The default calendar: weekends, national holidays and 年末年始.
DEFAULT_CALENDAR = BusinessCalendar()
