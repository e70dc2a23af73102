"""/health: is the service able to work (database reachable, procedures loaded)."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

import shingi
from api.deps import ServicesDep
from api.routing import Router
from notifications import sweeper

router = Router(tags=["health"])


@router.get("/health", summary="稼働状況")
def health(services: ServicesDep) -> JSONResponse:
    try:
        services.db.ping()
        database = "ok"
    except SQLAlchemyError:
        database = "unavailable"
    scheduler = (sweeper.scheduler_status(services.db, services.clock.now(), services.settings.sweep_interval_seconds)
                 if database == "ok" else {"status": "unknown", "late": True})
    body = {
        "status": "ok" if database == "ok" and not scheduler["late"] else "degraded",
        "version": shingi.__version__,
        "database": {"status": database, "backend": "sqlite" if services.db.is_sqlite else "postgresql"},
        "procedures": sorted(services.workflows.procedures),
        "scheduler": scheduler,
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
