"""/health and /ready: whether the process answers, and whether it can serve."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.errors import LocalisedText
from api.readiness import Check, Report


class HealthOut(BaseModel):
    status: Literal["ok"] = Field(description="the process answers (nothing else is asked)")


class CheckOut(BaseModel):
    result: Literal["ok", "failing", "not_checked"]
    reason: LocalisedText | None = Field(default=None, description="why it fails, or why it was not checked")


class DatabaseCheckOut(CheckOut):
    backend: Literal["sqlite", "postgresql"]
    seconds: float | None = Field(default=None, description="how long the database took to answer")


class MigrationsCheckOut(CheckOut):
    revision: str | None = Field(default=None, description="the database's schema revision (None: no schema yet)")
    head: str | None = Field(default=None, description="the revision the migration scripts end at")


class SchedulerCheckOut(CheckOut):
    instance: str | None = Field(default=None, description="whose heartbeat was read (host:pid)")
    last_beat: str | None = Field(default=None, description="its last sweep (Asia/Tokyo)")
    age_seconds: float | None = None
    late_after_seconds: float | None = Field(default=None, description="the age from which it is late")


class ReadyChecksOut(BaseModel):
    database: DatabaseCheckOut
    migrations: MigrationsCheckOut
    scheduler: SchedulerCheckOut


class ReadyOut(BaseModel):
    """Whether this instance can serve: 200 when no check fails, else 503."""

    status: Literal["ready", "not_ready"]
    version: str
    checks: ReadyChecksOut


def _reason(check: Check) -> LocalisedText | None:
    return LocalisedText(**check.reason.as_dict()) if check.reason is not None else None


def ready_out(report: Report, *, version: str, backend: Literal["sqlite", "postgresql"]) -> ReadyOut:
    database, migrations, scheduler = report.database, report.migrations, report.scheduler
    return ReadyOut(status="ready" if report.ready else "not_ready", version=version, checks=ReadyChecksOut(
        database=DatabaseCheckOut(result=database.result, reason=_reason(database), backend=backend,
                                  seconds=database.detail.get("seconds")),
        migrations=MigrationsCheckOut(result=migrations.result, reason=_reason(migrations),
                                      revision=migrations.detail.get("revision"), head=migrations.detail.get("head")),
        scheduler=SchedulerCheckOut(result=scheduler.result, reason=_reason(scheduler),
                                    instance=scheduler.detail.get("instance"),
                                    last_beat=scheduler.detail.get("last_beat"),
                                    age_seconds=scheduler.detail.get("age_seconds"),
                                    late_after_seconds=scheduler.detail.get("late_after_seconds")),
    ))
