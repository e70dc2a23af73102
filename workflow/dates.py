"""Date arithmetic and the one place where dates, times, instants and meeting titles become text:
the Japanese era (和暦) of formal documents, the 午前/午後 times of notices, the English forms, and
第N回 as the councils number their meetings."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from workflow.clock import TOKYO

# (first day, era name); dates before 平成 do not occur in this domain but are still named.
_ERAS = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
)
_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def days_inclusive(first: date, last: date) -> int:
    """Days in a period counting both ends (2015-06-22 to 2015-07-21 is 30 days)."""
    return (last - first).days + 1


def reassessment_deadline(published_on: date) -> date:
    """The last day before five years have passed since publication (再実施)."""
    return add_years(published_on, 5) - timedelta(days=1)


def wareki(day: date, *, weekday: bool = True) -> str:
    """令和7年12月21日（日） — the form formal documents use."""
    for first_day, era in _ERAS:
        if day >= first_day:
            year = day.year - first_day.year + 1
            year_text = "元" if year == 1 else str(year)
            text = f"{era}{year_text}年{day.month}月{day.day}日"
            break
    else:
        text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（{_WEEKDAYS_JA[day.weekday()]}）" if weekday else text


def english_date(day: date, *, weekday: bool = True) -> str:
    """Sun 21 Dec 2025."""
    text = f"{day.day} {day.strftime('%b')} {day.year}"
    return f"{_WEEKDAYS_EN[day.weekday()]} {text}" if weekday else text


def wareki_time(t: time) -> str:
    """午前10時, 午後1時30分, 正午 (12:00), 午前0時 (midnight), 午後0時30分 (12:30).

    Seconds are dropped: notices name the minute. Any tzinfo on `t` is ignored.
    """
    if (t.hour, t.minute) == (12, 0):
        return "正午"
    # Notices count 0–11 in both halves: 12:30 is 午後0時30分, not 午後12時30分.
    half = "午前" if t.hour < 12 else "午後"
    text = f"{half}{t.hour % 12}時"
    return f"{text}{t.minute}分" if t.minute else text


def wareki_datetime(dt: datetime, *, weekday: bool = True) -> str:
    """令和7年12月21日（日）午前10時 — the instant as read in Tokyo.

    Aware datetimes are converted to Asia/Tokyo first; naive ones are taken as Tokyo time.
    """
    local = dt.astimezone(TOKYO) if dt.tzinfo is not None else dt
    return f"{wareki(local.date(), weekday=weekday)}{wareki_time(local.time())}"


def meeting_title(term: str, number: int, body: str | None = None, *, separator: str = " ") -> str:
    """第16期第2回 福岡県個人情報保護審議会第二部会 (the term, when the body numbers by term, then 第N回).

    Formal documents run the words together (`separator=""`: 第16期第2回福岡県…の開催について).
    """
    numbered = f"{term}第{number}回"
    return f"{numbered}{separator}{body}" if body else numbered
