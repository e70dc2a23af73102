"""/health: is the service able to work (database reachable, procedures loaded)."""

from __future__ import annotations

from typing import Any

from fastapi import Response, status
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ServicesDep
from api.routing import Router
from api.schemas.health import DatabaseStatusOut, HealthOut, SchedulerStatusOut, scheduler_status_out
from notifications import heartbeat

router = Router(tags=["health"])

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": HealthOut, "description": "データベースに接続できない / the database is unavailable"},
}


# exclude_unset: without the database the scheduler's state is unknown, and nothing more is said of it
@router.get("/health", response_model_exclude_unset=True, responses=UNAVAILABLE, summary="稼働状況")
def health(services: ServicesDep, response: Response) -> HealthOut:
    try:
        services.db.ping()
        reachable = True
    except SQLAlchemyError:
        reachable = False
    if reachable:
        scheduler = scheduler_status_out(heartbeat.scheduler_status(services.db, services.clock.now(),
                                                                     services.options.sweep_interval_seconds))
    else:
        scheduler = SchedulerStatusOut(status="unknown", late=True)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthOut(
        status="ok" if reachable and not scheduler.late else "degraded",
        version=services.options.version,
        database=DatabaseStatusOut(status="ok" if reachable else "unavailable",
                                   backend="sqlite" if services.db.is_sqlite else "postgresql"),
        procedures=sorted(services.workflows.procedures),
        scheduler=scheduler,
    )
