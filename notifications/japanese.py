"""Japanese wording of times and instants for notices (開催通知 and reminders).

Dates use the era form of `workflow.dates.wareki`; times use the 12-hour 午前/午後 form of formal
notices ("午前10時", "午後1時30分", "正午").
"""

from __future__ import annotations

from datetime import datetime, time

from workflow.clock import TOKYO
from workflow.dates import wareki


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
