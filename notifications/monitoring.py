"""What the operators' metrics read of the queues, in one short read when they are scraped: reminders by
status, those due and not yet delivered (and when the oldest of them was due), notices by channel and
status, the e-mail outbox, and the schedulers' heartbeats. The rows are shared by every instance, so
any instance tells the same.

Each count follows an index (`ix_reminder_due`: status, due_at; `ix_notice_pending`: channel, status,
next_attempt_at); the heartbeat table holds one small row per process that ever ran a scheduler. On
PostgreSQL the read carries a statement timeout, so that a slow database costs a scrape at most that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, text
from sqlmodel import col, select

from notifications.models import Heartbeat, Notice, Reminder
from workflow.db import Database
from workflow.organisations import EVERY_ORGANISATION

#: The heartbeats told apart, by instance: those of the schedulers that beat within this time (a
#: process's instance is its host and pid, so every restart adds one), and the latest in any case.
HEARTBEATS_WITHIN = timedelta(days=1)


@dataclass(frozen=True)
class Queues:
    """The queues as the database holds them at one moment."""

    #: Reminders by status: pending | sent | withdrawn | expired.
    reminders: Mapping[str, int]
    #: Pending reminders whose time has come (due, not yet delivered).
    due: int
    #: When the oldest of them was due (None when none is).
    oldest_due_at: datetime | None
    #: Notices by (channel, status): inbox | email, pending | sent | failed (failed for good).
    notices: Mapping[tuple[str, str], int]
    #: When the oldest e-mail notice still waiting in the outbox was written (None when none waits).
    outbox_oldest_at: datetime | None
    #: The last beat of each scheduler that beat within HEARTBEATS_WITHIN (and of the latest one).
    heartbeats: Mapping[str, datetime]

    @property
    def outbox_depth(self) -> int:
        """E-mail notices waiting to be sent (or retried)."""
        return self.notices.get(("email", "pending"), 0)


def queues(db: Database, now: datetime, *, timeout_seconds: float = 2.0) -> Queues:
    """The queues now, read in one transaction (one snapshot on PostgreSQL)."""
    with db.reading(EVERY_ORGANISATION) as session:
        if not db.is_sqlite:
            session.execute(text(f"SET LOCAL statement_timeout = {max(1, int(timeout_seconds * 1000))}"))
        by_status = session.exec(select(Reminder.status, func.count()).group_by(Reminder.status)).all()
        due, oldest_due_at = session.exec(
            select(func.count(), func.min(Reminder.due_at))
            .where(Reminder.status == "pending", Reminder.due_at <= now)).one()
        notices = session.exec(select(Notice.channel, Notice.status, func.count())
                               .group_by(Notice.channel, Notice.status)).all()
        outbox_oldest_at = session.exec(select(func.min(Notice.created_at)).where(
            Notice.channel == "email", Notice.status == "pending")).one()
        beats = session.exec(select(Heartbeat.instance, Heartbeat.beat_at)
                             .where(Heartbeat.beat_at >= now - HEARTBEATS_WITHIN)).all()
        if not beats:
            beats = session.exec(select(Heartbeat.instance, Heartbeat.beat_at)
                                 .order_by(col(Heartbeat.beat_at).desc()).limit(1)).all()
    return Queues(reminders={status: count for status, count in by_status}, due=due, oldest_due_at=oldest_due_at,
                  notices={(channel, status): count for channel, status, count in notices},
                  outbox_oldest_at=outbox_oldest_at, heartbeats={instance: at for instance, at in beats})
