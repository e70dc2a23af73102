"""The scheduler's heartbeat, per instance: /health reports a scheduler that is late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from notifications.models import Heartbeat
from workflow.clock import TOKYO
from workflow.db import Database


def beat(db: Database, instance: str, now: datetime, delivered: int) -> None:
    with db.writing() as session:
        row = session.get(Heartbeat, instance) or Heartbeat(instance=instance, beat_at=now)
        row.beat_at, row.delivered = now, row.delivered + delivered
        session.add(row)


@dataclass(frozen=True)
class SchedulerStatus:
    status: str  # ok | late | never_ran
    late: bool
    last_beat: str | None = None
    instance: str | None = None


def scheduler_status(db: Database, now: datetime, interval_seconds: float) -> SchedulerStatus:
    """The latest heartbeat; `late` when no sweep ran for three intervals (at least 30 s)."""
    with db.reading() as session:
        last = session.exec(select(Heartbeat).order_by(col(Heartbeat.beat_at).desc())).first()
    if last is None:
        return SchedulerStatus(status="never_ran", late=True)
    late = now - last.beat_at > timedelta(seconds=max(30, 3 * interval_seconds))
    return SchedulerStatus(status="late" if late else "ok", late=late,
                           last_beat=last.beat_at.astimezone(TOKYO).isoformat(), instance=last.instance)
