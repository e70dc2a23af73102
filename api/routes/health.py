"""/health: is the service able to work (database reachable, procedures loaded)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ServicesDep
from api.routing import Router
from notifications import heartbeat

router = Router(tags=["health"])


@router.get("/health", summary="稼働状況")
def health(services: ServicesDep) -> JSONResponse:
    try:
        services.db.ping()
        database = "ok"
    except SQLAlchemyError:
        database = "unavailable"
    scheduler = (asdict(heartbeat.scheduler_status(services.db, services.clock.now(),
                                                   services.options.sweep_interval_seconds))
                 if database == "ok" else {"status": "unknown", "late": True})
    body = {
        "status": "ok" if database == "ok" and not scheduler["late"] else "degraded",
        "version": services.options.version,
        "database": {"status": database, "backend": "sqlite" if services.db.is_sqlite else "postgresql"},
        "procedures": sorted(services.workflows.procedures),
        "scheduler": scheduler,
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
