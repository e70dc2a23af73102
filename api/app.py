"""The FastAPI application: a thin shell over workflow/ (parse, call a service, map errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import shingi
from api import errors
from api import web
from api.deps import Services
from api.routes import accounts, assessments, deliberation, health, procedures
from api.routes import documents as document_routes
from api.routes import notices as notice_routes
from api.routes import feeds as feed_routes
from api.routes import meetings as meeting_routes
from api.routes import records as record_routes
from shingi.config import Settings
from workflow.clock import Clock, SystemClock
from workflow.db import Database
from notifications import reminders, sweeper
from workflow import accounts as user_accounts
from workflow import documents
from workflow.engine import Workflows
from workflow.files import FileStore

DESCRIPTION = """
特定個人情報保護評価（PIA）と諮問の審議手続を管理する API です。

Every error answers with one JSON shape, `{"error": {"code", "message": {"ja", "en"}, …}}`:
422 names each field and the rule it breaks (`fields`), 409 lists the events allowed now
(`allowed_events`) or the current version of a case (`current_version`).
"""


def create_app(settings: Settings | None = None, *, database: Database | None = None,
               workflows: Workflows | None = None, clock: Clock | None = None,
               files: FileStore | None = None) -> FastAPI:
    settings = settings or Settings()
    user_accounts.TOKEN_CACHE_SECONDS = settings.token_cache_seconds
    workflows = workflows or Workflows.load(settings.procedure_dirs)  # fails fast on a bad procedure file
    owns_database = database is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or Database(settings.database_url)
        if settings.migrate_on_start:
            db.upgrade()
        store = files or FileStore(settings.files_dir)
        store.sweep(documents.live_keys(db))  # content left behind by a crash between commit and purge
        app.state.services = Services(settings=settings, db=db, workflows=workflows, clock=clock or SystemClock(),
                                      files=store)
        reminders.ensure_default_rules(db)
        scheduler = None
        if settings.scheduler:
            services = app.state.services
            scheduler = sweeper.start_in_background(
                sweeper.Sweeper(db, workflows, services.clock, mailer=sweeper.mailer_from_env(), files=store),
                settings.sweep_interval_seconds)
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=True)
            if owns_database:
                db.dispose()

    app = FastAPI(title="shingi 審議", version=shingi.__version__, description=DESCRIPTION, lifespan=lifespan)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(assessments.router)
    app.include_router(assessments.consultations)
    app.include_router(procedures.router)
    app.include_router(accounts.router)
    app.include_router(document_routes.router)
    app.include_router(feed_routes.router)
    app.include_router(meeting_routes.router)
    app.include_router(record_routes.router)
    app.include_router(deliberation.router)
    app.include_router(notice_routes.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    return app
