"""The FastAPI application: a thin shell over workflow/ (parse, call a service, map errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from api import errors, limits, observability, web
from api.deps import Services
from api.routes import accounts, assessments, deliberation, health, procedures
from api.routes import documents as document_routes
from api.routes import feeds as feed_routes
from api.routes import meetings as meeting_routes
from api.routes import notices as notice_routes
from api.routes import records as record_routes
from api.routes import search as search_routes
from states.definition import EARLIEST_DATE, LATEST_DATE

#: The process's lifetime around the application (the composition root starts the scheduler in it).
Lifetime = Callable[[], AbstractContextManager[None]]

DESCRIPTION = f"""
特定個人情報保護評価（PIA）と諮問の審議手続を管理する API です。

Every error answers with one JSON shape, `{{"error": {{"code", "message": {{"ja", "en"}}, …}}}}`:
422 names each field and the rule it breaks (`fields`), 409 lists the events allowed now
(`allowed_events`) or the current version of a case (`current_version`).

A request body is at most `SHINGI_MAX_UPLOAD_BYTES` + 1 MiB (413 beyond). JSON is UTF-8 text (rule
`encoding`), nested at most {limits.MAX_DEPTH} deep (rule `max_depth`), with integers of at most
{limits.MAX_DIGITS} digits (rule `max_digits`). A form has at most {limits.MAX_PARTS} parts (rule `max_parts`),
text parts of at most 1 MiB and file names of at most {limits.MAX_FILENAME} characters (rule `max_length`).
Dates lie between {EARLIEST_DATE} and {LATEST_DATE} (rule `minimum` / `maximum`, or `date_range` for an
instant): the `pattern` of every date and instant in the schema.
"""


class ShingiAPI(FastAPI):
    def openapi(self) -> dict[str, Any]:
        """FastAPI's schema, with the errors stated as they are answered (api/errors.py)."""
        if self.openapi_schema is None:
            self.openapi_schema = errors.document(super().openapi())
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack inside `observability.Observed`: every answer, a 500 too, is observed."""
        return observability.Observed(super().build_middleware_stack())


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

    app = ShingiAPI(title="shingi 審議", version=services.options.version, description=DESCRIPTION, lifespan=lifespan)
    errors.install(app)
    app.add_middleware(limits.RequestLimits)
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
    app.include_router(search_routes.router)
    app.include_router(notice_routes.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    return app
