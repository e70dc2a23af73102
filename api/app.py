"""The FastAPI application: a thin shell over workflow/ (parse, call a service, map errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, web
from api.deps import Services
from api.routes import accounts, assessments, deliberation, health, procedures
from api.routes import documents as document_routes
from api.routes import feeds as feed_routes
from api.routes import meetings as meeting_routes
from api.routes import notices as notice_routes
from api.routes import records as record_routes

#: The process's lifetime around the application (the composition root starts the scheduler in it).
Lifetime = Callable[[], AbstractContextManager[None]]

DESCRIPTION = """
特定個人情報保護評価（PIA）と諮問の審議手続を管理する API です。

Every error answers with one JSON shape, `{"error": {"code", "message": {"ja", "en"}, …}}`:
422 names each field and the rule it breaks (`fields`), 409 lists the events allowed now
(`allowed_events`) or the current version of a case (`current_version`).
"""


def create_app(services: Services, *, lifetime: Lifetime | None = None) -> FastAPI:
    """The application over services built elsewhere (shingi.bootstrap)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services
        if lifetime is None:
            yield
            return
        with lifetime():
            yield

    app = FastAPI(title="shingi 審議", version=services.options.version, description=DESCRIPTION, lifespan=lifespan)
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
