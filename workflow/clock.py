"""Time, passed in: the system clock in production, a settable clock in tests and the demo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

#: Japan Standard Time (日本標準時), where every council sits: "today", deadlines, office hours, 和暦 dates
#: and national holidays are all Japan's. It is the domain's constant, not a setting.
TOKYO = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    """Tells the current instant (timezone-aware)."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and for replaying the demo history."""

    def __init__(self, instant: datetime):
        self.instant = _aware(instant)

    def now(self) -> datetime:
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = _aware(instant)

    def advance(self, **delta: float) -> None:
        self.instant += timedelta(**delta)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a clock needs a timezone-aware instant")
    return instant


def local_today(clock: Clock, zone: ZoneInfo = TOKYO) -> date:
    """Today's date where the council sits (Asia/Tokyo): deadlines are dates there."""
    return clock.now().astimezone(zone).date()
