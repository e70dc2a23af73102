"""/health: whether the service is able to work."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from notifications.heartbeat import SchedulerStatus


class DatabaseStatusOut(BaseModel):
    status: Literal["ok", "unavailable"]
    backend: Literal["sqlite", "postgresql"]


class SchedulerStatusOut(BaseModel):
    """The latest heartbeat; only `status` and `late` while the database is unavailable."""

    status: str = Field(description="ok | late | never_ran | unknown")
    late: bool
    last_beat: str | None = None
    instance: str | None = None


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: DatabaseStatusOut
    procedures: list[str]
    scheduler: SchedulerStatusOut


def scheduler_status_out(status: SchedulerStatus) -> SchedulerStatusOut:
    return SchedulerStatusOut(status=status.status, late=status.late, last_beat=status.last_beat,
                              instance=status.instance)
