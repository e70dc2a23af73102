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
from api import metrics, observability
from api.app import create_app
from api.deps import Services, WebOptions
from api.readiness import Readiness, SchedulerExpected, SchemaVersions
from notifications import papers, reminders
from notifications.delivery import Deliverer
from notifications.following import Follower
from notifications.mailer import Mailer, SmtpMailer, SmtpSettings
from shingi import migrations
from shingi.config import Settings
from shingi.scheduler import Jobs, instance_name, start_in_background
from workflow import documents, organisation_settings, service
from workflow.clock import Clock, SystemClock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.files import FileStore
from workflow.organisation_settings import OrganisationChange


@dataclass
class Core:
    """The services of one process."""

    settings: Settings
    db: Database
    workflows: Workflows
    clock: Clock
    files: FileStore
    paper_templates: Environment
    mailer: Mailer | None
    #: Whether this process made the database (and so disposes of it).
    owns_database: bool = field(default=True, repr=False)
    #: This process's name in the scheduler's heartbeats (host:pid).
    instance: str = field(default_factory=instance_name)

    @property
    def papers(self) -> papers.Papers:
        return papers.Papers(self.db, self.workflows, self.clock, self.paper_templates)

    def jobs(self) -> Jobs:
        return Jobs(db=self.db, workflows=self.workflows, clock=self.clock,
                    follower=Follower(self.db, self.workflows, self.clock, self.settings.templates_dir),
                    deliverer=Deliverer(self.db, self.workflows, self.clock, self.settings.templates_dir),
                    files=self.files, mailer=self.mailer, instance=self.instance, observe=metrics.observe_job)

    def web_services(self) -> Services:
        settings = self.settings
        return Services(db=self.db, workflows=self.workflows, clock=self.clock, files=self.files,
                        papers=self.papers,
                        options=WebOptions(version=shingi.__version__, cookie_secure=settings.cookie_secure,
                                           max_upload_bytes=settings.max_upload_bytes,
                                           token_cache_seconds=settings.token_cache_seconds),
                        readiness=self.readiness(),
                        metrics=metrics.Exposition(
                            self.db, self.clock, version=shingi.__version__,
                            token=settings.metrics_token.get_secret_value() if settings.metrics_token else None,
                            timeout_seconds=settings.ready_timeout_seconds))

    def readiness(self) -> Readiness:
        """The checks of /ready: the scheduler's heartbeat where one is expected — this process's own when
        it runs the scheduler, else any instance's (a worker apart)."""
        settings, db = self.settings, self.db
        scheduler = None
        if settings.expects_scheduler:
            scheduler = SchedulerExpected(settings.sweep_interval_seconds,
                                          instance=self.instance if settings.scheduler else None)
        return Readiness(db, self.clock, scheduler=scheduler, timeout_seconds=settings.ready_timeout_seconds,
                         schema=lambda: SchemaVersions(database=migrations.current(db), heads=migrations.heads(),
                                                       known=migrations.revisions()))

    def prepare(self) -> None:
        """What every process does before it works: the schema, the default reminder rules, and the
        content a crash left behind between a commit and its purge."""
        if self.settings.migrate_on_start:
            migrations.upgrade(self.db)
        organisation_settings.apply_to_first(self.db, self.clock, OrganisationChange(
            name=self.settings.organisation, head_title=self.settings.organisation_head,
            closure_days=self.settings.closure_days))
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
    workflows.observe(metrics.count_advance)  # once, however many times the same procedures are built on
    return Core(
        settings=settings,
        db=database or Database(settings.database_url, pool=settings.database_pool,
                                row_security=settings.database_row_security),
        workflows=workflows,
        clock=clock or SystemClock(),
        files=files or FileStore(settings.files_dir),
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


def configure_logging(settings: Settings) -> None:
    """The process's log, as the settings say (SHINGI_LOG_FORMAT, SHINGI_LOG_LEVEL, SHINGI_ACCESS_LOG)."""
    observability.configure_logging(settings.log_format, settings.log_level, access_log=settings.access_log)


def application() -> FastAPI:
    """The web application from the environment's settings, for a server that starts each worker process
    itself (`shingi serve --workers N`, or `uvicorn --factory shingi.bootstrap:application --workers N`)."""
    settings = Settings()
    configure_logging(settings)
    return web_app(build(settings))
