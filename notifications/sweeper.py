"""The sweeper: APScheduler only wakes it up; the work is in the rows.

Each tick fires the scheduled events that are due (e.g. a public comment opening or closing on its
recorded date), recomputes the reminders of cases changed since the last tick, turns due reminders
into notices (in-app inbox at once, e-mail into the outbox), sends e-mail, seals new audit entries
into the chain, and records a heartbeat. Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL (any number of instances deliver each reminder once); on SQLite the write transaction
is exclusive. A reminder becomes `sent` in the same transaction that writes its notices, so a worker
killed mid-batch loses nothing and doubles nothing: its transaction rolls back and another takes over.
After downtime the due rows are simply all there: they go out once, on the first tick.
"""

from __future__ import annotations

import logging
import os
import socket
import time as _time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import exists, func
from sqlmodel import Session, col, select

from notifications import messages
from notifications.models import Heartbeat, Notice, Reminder, ReminderRule, ScheduledEvent
from workflow import audit, service
from workflow.clock import TOKYO, Clock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.errors import DomainError
from workflow.models import Assessment
from workflow.policy import system_actor
from workflow.records import PublicComment

log = logging.getLogger("shingi.scheduler")

SCHEDULER_ACTOR = "スケジューラ（自動処理）"


def _claim(query: Any, db: Database) -> Any:
    return query.with_for_update(skip_locked=True) if not db.is_sqlite else query


def deliver_due_reminders(db: Database, clock: Clock, *, workflows: Workflows | None = None, limit: int = 500) -> int:
    """Turn up to `limit` due reminders into notices, in one transaction. Returns how many.

    With `workflows`, the reminders of changed cases are recomputed first; either way no reminder
    of a case changed since its last recomputation goes out before that recomputation.
    """
    if workflows is not None:
        service.refresh_case_reminders(db, workflows, clock)
    now = clock.now()
    with db.writing() as session:
        due = session.exec(_claim(
            select(Reminder).where(Reminder.status == "pending", Reminder.due_at <= now, ~_of_a_changed_case())
            .order_by(col(Reminder.due_at), col(Reminder.id)).limit(limit), db)).all()
        if not due:
            return 0
        rules = {rule.key: rule for rule in session.exec(
            select(ReminderRule).where(col(ReminderRule.key).in_({row.rule_key for row in due}))).all()}
        renderer = messages.ReminderRenderer(session, users={row.user_id for row in due})
        outbox: list[dict[str, Any]] = []
        with session.no_autoflush:  # the batch only reads until it writes everything at the end
            for reminder in due:
                rule = rules.get(reminder.rule_key)
                if rule is None or not rule.enabled:
                    reminder.status = "withdrawn"
                elif rule.offset_days >= 0 and reminder.fact_at <= now:
                    reminder.status = "expired"  # the meeting or deadline it announced has passed (downtime)
                else:
                    outbox.extend(renderer.notices(reminder, rule, now))
                    reminder.status = "sent"
            handed_over = clock.now()  # when the batch is written: the delivery time its rows record
            for reminder in due:
                reminder.updated_at = handed_over
                if reminder.status == "sent":
                    reminder.sent_at = handed_over
            for notice in outbox:
                if notice["status"] == "sent":
                    notice["sent_at"] = handed_over
        if outbox:
            session.execute(Notice.__table__.insert(), outbox)
    return len(due)


def _of_a_changed_case() -> Any:
    return exists().where(Reminder.subject_type == "assessment", Assessment.id == Reminder.subject_id,
                          service.reminders_out_of_date())


def _recorded_comments(session: Session, case_id: int, cycle: int) -> int:
    return session.exec(select(func.count()).select_from(PublicComment).where(
        PublicComment.assessment_id == case_id, PublicComment.cycle == cycle)).one()


def run_scheduled_events(db: Database, workflows: Workflows, clock: Clock, *, files: Any = None,
                         limit: int = 20) -> int:
    """Fire the events whose time has come; the history records that the scheduler did it."""
    now = clock.now()
    with db.writing() as session:
        due = session.exec(_claim(
            select(ScheduledEvent).where(ScheduledEvent.status == "pending", ScheduledEvent.run_at <= now)
            .order_by(col(ScheduledEvent.run_at)).limit(limit), db)).all()
        for row in due:  # claimed for a minute: the event runs in its own transaction below
            row.status, row.locked_until = "running", now + timedelta(minutes=1)
            session.add(row)
        claimed = [(row.id, row.assessment_id, row.event, dict(row.inputs)) for row in due]
    for event_id, case_id, event, inputs in claimed:
        outcome, error = "done", None
        try:
            with db.reading() as session:
                case = service._load(session, case_id)
                if event.startswith("close_public_comment") and "comment_count" not in inputs:
                    inputs["comment_count"] = _recorded_comments(session, case_id, case.cycle)
            service.advance(db, workflows, clock, case_id, event=event, expected_version=case.version,
                            inputs=inputs, actor=system_actor(SCHEDULER_ACTOR), files=files,
                            note="予定日時到来により自動実行")
        except DomainError as refused:
            outcome, error = "failed", refused.message.ja[:1000]
            log.warning("scheduled event %s on case %s refused: %s", event, case_id, refused.message.en)
        with db.writing() as session:
            row = session.get(ScheduledEvent, event_id)
            row.status, row.error, row.done_at, row.locked_until = outcome, error, clock.now(), None
            session.add(row)
    _release_stuck_events(db, now)
    return len(claimed)


def _release_stuck_events(db: Database, now: datetime) -> None:
    """An event claimed by a worker that died returns to the queue when its claim runs out."""
    with db.writing() as session:
        for row in session.exec(select(ScheduledEvent).where(ScheduledEvent.status == "running",
                                                             ScheduledEvent.locked_until < now)).all():
            row.status, row.locked_until = "pending", None
            session.add(row)


def beat(db: Database, instance: str, now: datetime, delivered: int) -> None:
    with db.writing() as session:
        row = session.get(Heartbeat, instance) or Heartbeat(instance=instance, beat_at=now)
        row.beat_at, row.delivered = now, row.delivered + delivered
        session.add(row)


def scheduler_status(db: Database, now: datetime, interval_seconds: float) -> dict[str, Any]:
    """The latest heartbeat; `late` when no sweep ran for three intervals (at least 30 s)."""
    with db.reading() as session:
        last = session.exec(select(Heartbeat).order_by(col(Heartbeat.beat_at).desc())).first()
    if last is None:
        return {"status": "never_ran", "last_beat": None, "late": True}
    late = now - last.beat_at > timedelta(seconds=max(30, 3 * interval_seconds))
    return {"status": "late" if late else "ok", "last_beat": last.beat_at.astimezone(TOKYO).isoformat(),
            "instance": last.instance, "late": late}


@dataclass
class SweepReport:
    fired: int = 0
    reminded: int = 0
    sealed: int = 0
    emails: Any = None
    seconds: float = 0.0


@dataclass
class Sweeper:
    db: Database
    workflows: Workflows
    clock: Clock
    mailer: Any = None
    files: Any = None
    instance: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    batch: int = 500

    def tick(self) -> SweepReport:
        started = _time.monotonic()
        report = SweepReport()
        try:
            report.fired = run_scheduled_events(self.db, self.workflows, self.clock, files=self.files)
            # Batch after batch while reminders are due: a backlog is worked off in one tick rather
            # than one batch per interval (ticks never overlap; a skipped tick is not a lost one).
            while True:
                delivered = deliver_due_reminders(self.db, self.clock, workflows=self.workflows, limit=self.batch)
                report.reminded += delivered
                if delivered < self.batch:
                    break
            if self.mailer is not None:
                from notifications.email_delivery import deliver_emails

                report.emails = deliver_emails(self.db, self.mailer, self.clock)
            report.sealed = audit.seal(self.db)
            beat(self.db, self.instance, self.clock.now(), report.reminded)
        except Exception:  # a failed tick must not kill the scheduler thread; the next tick retries
            log.exception("sweep failed")
        report.seconds = _time.monotonic() - started
        return report


def _job_defaults() -> dict[str, Any]:
    # One tick at a time; missed ticks collapse into one (the rows, not the ticks, carry the work).
    return {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def start_in_background(sweeper: Sweeper, interval_seconds: float) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=TOKYO, job_defaults=_job_defaults())
    scheduler.add_job(sweeper.tick, IntervalTrigger(seconds=interval_seconds), id="sweep",
                      next_run_time=datetime.now(TOKYO))
    scheduler.start()
    return scheduler


def run_blocking(sweeper: Sweeper, interval_seconds: float) -> None:
    scheduler = BlockingScheduler(timezone=TOKYO, job_defaults=_job_defaults())
    scheduler.add_job(sweeper.tick, IntervalTrigger(seconds=interval_seconds), id="sweep",
                      next_run_time=datetime.now(TOKYO))
    scheduler.start()


def unread_count(db: Database, user_id: int) -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Notice).where(
            Notice.user_id == user_id, Notice.channel == "inbox", col(Notice.read_at).is_(None))).one()


def mailer_from_env() -> Any:
    """An SMTP mailer when SHINGI_SMTP_HOST is set; otherwise None (e-mail notices wait in the outbox)."""
    if not os.environ.get("SHINGI_SMTP_HOST", "").strip():
        return None
    from notifications.mailer import SmtpMailer, SmtpSettings

    return SmtpMailer(SmtpSettings.from_env())
