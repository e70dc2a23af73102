"""The one composition root: every service is built here, once, from the Settings, and handed to
the web application, the worker and the operators' commands. Nothing below falls back to the
environment, the wall clock or the shipped procedures on its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI
from jinja2 import Environment

import shingi
from api.app import create_app
from api.deps import Services, WebOptions
from notifications import papers, reminders
from notifications.delivery import Deliverer
from notifications.following import Follower
from notifications.mailer import Mailer, SmtpMailer, SmtpSettings
from shingi import migrations
from shingi.config import Settings
from shingi.scheduler import Jobs, start_in_background
from workflow import documents, service
from workflow.calendar import BusinessCalendar
from workflow.clock import Clock, SystemClock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.files import FileStore


@dataclass
class Core:
    """The services of one process."""

    settings: Settings
    db: Database
    workflows: Workflows
    clock: Clock
    files: FileStore
    calendar: BusinessCalendar
    letterhead: papers.Letterhead
    paper_templates: Environment
    mailer: Mailer | None
    #: Whether this process made the database (and so disposes of it).
    owns_database: bool = field(default=True, repr=False)

    @property
    def papers(self) -> papers.Papers:
        return papers.Papers(self.db, self.workflows, self.clock, self.letterhead, self.paper_templates)

    def jobs(self) -> Jobs:
        return Jobs(db=self.db, workflows=self.workflows, clock=self.clock,
                    follower=Follower(self.db, self.workflows, self.calendar, self.clock, self.settings.templates_dir),
                    deliverer=Deliverer(self.db, self.workflows, self.clock, self.settings.templates_dir),
                    files=self.files, mailer=self.mailer)

    def web_services(self) -> Services:
        settings = self.settings
        return Services(db=self.db, workflows=self.workflows, clock=self.clock, files=self.files,
                        calendar=self.calendar, papers=self.papers,
                        options=WebOptions(version=shingi.__version__, cookie_secure=settings.cookie_secure,
                                           max_upload_bytes=settings.max_upload_bytes,
                                           sweep_interval_seconds=settings.sweep_interval_seconds,
                                           token_cache_seconds=settings.token_cache_seconds))

    def prepare(self) -> None:
        """What every process does before it works: the schema, the default reminder rules, and the
        content a crash left behind between a commit and its purge."""
        if self.settings.migrate_on_start:
            migrations.upgrade(self.db)
        reminders.ensure_default_rules(self.db)
        service.reconcile_public(self.db, self.workflows)
        self.files.sweep(documents.live_keys(self.db))

    def close(self) -> None:
        if self.owns_database:
            self.db.dispose()


def mailer(settings: Settings) -> Mailer | None:
    """An SMTP mailer when a host is set; otherwise None (e-mail notices wait in the outbox)."""
    if not settings.smtp_host.strip():
        return None
    return SmtpMailer(SmtpSettings(
        host=settings.smtp_host.strip(), port=settings.smtp_port or (587 if settings.smtp_starttls else 25),
        user=settings.smtp_user or None,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls, mail_from=settings.mail_from.strip() or "shingi@localhost"))


def build(settings: Settings, *, database: Database | None = None, workflows: Workflows | None = None,
          clock: Clock | None = None, files: FileStore | None = None) -> Core:
    """Every service from the settings; the keyword arguments stand in for one part (tests, the demo)."""
    # first: a bad procedure file of the secretariat's stops the start before anything else is made
    workflows = workflows or Workflows.load(settings.procedure_dirs)
    return Core(
        settings=settings,
        db=database or Database(settings.database_url, pool=settings.database_pool),
        workflows=workflows,
        clock=clock or SystemClock(),
        files=files or FileStore(settings.files_dir),
        calendar=BusinessCalendar.from_settings(settings.closure_days),
        letterhead=papers.Letterhead(settings.organisation, settings.organisation_head),
        paper_templates=papers.environment(settings.templates_dir),
        mailer=mailer(settings),
        owns_database=database is None,
    )


@contextmanager
def _running(core: Core) -> Iterator[None]:
    """The web process's lifetime: prepared on start, the scheduler embedded unless a worker runs apart."""
    core.prepare()
    scheduler: BackgroundScheduler | None = None
    if core.settings.scheduler:
        scheduler = start_in_background(core.jobs(), core.settings.sweep_interval_seconds)
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        core.close()


def web_app(core: Core) -> FastAPI:
    return create_app(core.web_services(), lifetime=lambda: _running(core))


def web_app_from_environment() -> FastAPI:
    """The app of one of `shingi serve --workers N`'s web processes (uvicorn's factory): the settings
    from the environment, which the parent sets so that the scheduler is not embedded here."""
    return web_app(build(Settings()))
