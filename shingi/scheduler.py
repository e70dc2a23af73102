"""The scheduler: APScheduler only wakes it up; the work is in the rows.

Each tick runs its jobs one after the other, each with its own error handling, so that one failing
job never stops the others: fire the scheduled events that are due, follow the changes committed
since the last tick (reminders recomputed), deliver the due reminders, send e-mail, seal new audit
entries into the chain, and beat. After downtime the due rows are simply all there: they go out
once, on the first tick.
"""

from __future__ import annotations

import logging
import os
import socket
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from notifications import heartbeat
from notifications.delivery import Deliverer
from notifications.following import Follower
from notifications.mailer import Mailer
from notifications.outbox import deliver_emails
from workflow import audit, scheduled_events
from workflow.clock import TOKYO, Clock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.files import FileStore

log = logging.getLogger("shingi.scheduler")


def instance_name() -> str:
    """This process's name in the heartbeats: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


#: Told of each run of a job: its name, how long it took (seconds), whether it raised. It must not raise.
JobObserver = Callable[[str, float, bool], None]


@dataclass
class TickReport:
    """What one tick did; `failed` names the jobs that raised (the others ran all the same)."""

    fired: int = 0
    followed: int = 0
    reminded: int = 0
    emails: Any = None
    sealed: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Jobs:
    """The scheduler's jobs, built once by the composition root (shingi.bootstrap)."""

    db: Database
    workflows: Workflows
    clock: Clock
    follower: Follower
    deliverer: Deliverer
    files: FileStore | None = None
    mailer: Mailer | None = None
    instance: str = field(default_factory=instance_name)
    batch: int = 500
    #: Told of every job's run (the composition root times them for the metrics).
    observe: JobObserver | None = None

    def tick(self) -> TickReport:
        started = _time.monotonic()
        report = TickReport()
        self._run(report, "scheduled_events", lambda: setattr(report, "fired", self.fire_scheduled_events()))
        self._run(report, "follow_changes", lambda: setattr(report, "followed", self.follower.follow()))
        self._run(report, "deliver_reminders", lambda: setattr(report, "reminded", self.deliver_reminders()))
        if self.mailer is not None:
            mailer = self.mailer
            self._run(report, "send_email",
                      lambda: setattr(report, "emails", deliver_emails(self.db, mailer, self.clock,
                                                                       worker=self.instance)))
        self._run(report, "seal_audit", lambda: setattr(report, "sealed", audit.seal(self.db)))
        self._run(report, "heartbeat",
                  lambda: heartbeat.beat(self.db, self.instance, self.clock.now(), report.reminded))
        report.seconds = _time.monotonic() - started
        return report

    def _run(self, report: TickReport, name: str, job: Callable[[], object]) -> None:
        started, failed = _time.monotonic(), False
        try:
            job()
        except Exception:  # one job's failure must not stop the others, nor kill the scheduler thread
            log.exception("scheduler job %s failed; the next tick retries it", name)
            report.failed.append(name)
            failed = True
        if self.observe is not None:
            try:
                self.observe(name, _time.monotonic() - started, failed)
            except Exception:
                log.exception("observing scheduler job %s failed", name)

    def fire_scheduled_events(self) -> int:
        return scheduled_events.fire_due(self.db, self.workflows, self.clock, worker=self.instance, files=self.files)

    def deliver_reminders(self) -> int:
        """Batch after batch while reminders are due: a backlog is worked off in one tick rather than
        one batch per interval (ticks never overlap; a skipped tick is not a lost one)."""
        delivered = 0
        while True:
            batch = self.deliverer.deliver_due(limit=self.batch)
            delivered += batch
            if batch < self.batch:
                return delivered


def _job_defaults() -> dict[str, Any]:
    # One tick at a time; missed ticks collapse into one (the rows, not the ticks, carry the work).
    return {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def start_in_background(jobs: Jobs, interval_seconds: float) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=TOKYO, job_defaults=_job_defaults())
    scheduler.add_job(jobs.tick, IntervalTrigger(seconds=interval_seconds), id="tick",
                      next_run_time=datetime.now(TOKYO))
    scheduler.start()
    return scheduler


def run_blocking(jobs: Jobs, interval_seconds: float) -> None:
    scheduler = BlockingScheduler(timezone=TOKYO, job_defaults=_job_defaults())
    scheduler.add_job(jobs.tick, IntervalTrigger(seconds=interval_seconds), id="tick",
                      next_run_time=datetime.now(TOKYO))
    scheduler.start()
