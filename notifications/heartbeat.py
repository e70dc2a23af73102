"""The scheduler's heartbeat, per instance: /ready reports a scheduler that is late, /metrics its age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from notifications.models import Heartbeat
from workflow.clock import TOKYO
from workflow.db import Database
from workflow.organisations import EVERY_ORGANISATION


def beat(db: Database, instance: str, now: datetime, delivered: int) -> None:
    with db.writing(EVERY_ORGANISATION) as session:
        row = session.get(Heartbeat, instance) or Heartbeat(instance=instance, beat_at=now)
        row.beat_at, row.delivered = now, row.delivered + delivered
        session.add(row)


def late_after(interval_seconds: float) -> timedelta:
    """How long without a sweep makes a scheduler late: three intervals, at least 30 s."""
    return timedelta(seconds=max(30, 3 * interval_seconds))


@dataclass(frozen=True)
class SchedulerStatus:
    status: str  # ok | late | never_ran
    late: bool
    last_beat: str | None = None
    instance: str | None = None
    #: Seconds since the last beat (None when none was ever recorded).
    age_seconds: float | None = None


def scheduler_status(db: Database, now: datetime, interval_seconds: float, *,
                     instance: str | None = None) -> SchedulerStatus:
    """The latest heartbeat — of `instance`, or of any instance — and whether it is late (`late_after`)."""
    query = select(Heartbeat)
    if instance is not None:
        query = query.where(Heartbeat.instance == instance)
    with db.reading(EVERY_ORGANISATION) as session:
        last = session.exec(query.order_by(col(Heartbeat.beat_at).desc()).limit(1)).first()
    if last is None:
        return SchedulerStatus(status="never_ran", late=True)
    age = now - last.beat_at
    late = age > late_after(interval_seconds)
    return SchedulerStatus(status="late" if late else "ok", late=late,
                           last_beat=last.beat_at.astimezone(TOKYO).isoformat(), instance=last.instance,
                           age_seconds=max(age.total_seconds(), 0.0))
