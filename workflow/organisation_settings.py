"""What an organisation's secretariat sets for itself: its name and head (the letterhead and addressee
of its papers) and its closure days (the business-day calendar of its deadlines and reminders).

Each organisation keeps its own closure days (休日条例: 年末年始 by default, and any other day it
closes, recurring or once); `calendar_of` gives the calendar a case, meeting or finding of that
organisation is counted in. A change takes effect for what is computed afterwards: the reminders of
the organisation's record are recomputed by the next sweep, and deadlines already set stay as they
were set.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlmodel import Session

from workflow import audit, changes
from workflow.accounts import audit_actor
from workflow.calendar import DEFAULT_CALENDAR, BusinessCalendar
from workflow.clock import Clock
from workflow.db import Database
from workflow.errors import Message, NotFound
from workflow.organisations import DEFAULT_ORGANISATION, Organisation, of
from workflow.policy import Action, Actor, authorize
from workflow.validation import RecordDate, Text100, refusal

#: How far ahead the answer lists the organisation's closed weekdays, so that a change can be checked.
UPCOMING_DAYS = 120
CLOSURE_PATTERN = r"^\s*([0-9]{1,2}-[0-9]{1,2}(\.\.[0-9]{1,2}-[0-9]{1,2})?(\s*,\s*[0-9]{1,2}-[0-9]{1,2}(\.\.[0-9]{1,2}-[0-9]{1,2})?)*)?\s*$"


def _closure_days(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        BusinessCalendar.from_settings(value)
    except ValueError:
        raise refusal("closure_days_format",
                      "閉庁日は「12-29..01-03」（期間）や「08-15」（1日）のように月-日で記載し、複数はカンマで区切ってください。",
                      'Write closure days as month-day, "08-15", or a range, "12-29..01-03", comma-separated.'
                      ) from None
    return ",".join(part.strip() for part in value.split(",")) if value.strip() else ""


#: 年末年始 and the organisation's other recurring closure days, e.g. "12-29..01-03,08-15".
ClosureDays = Annotated[str, BeforeValidator(_closure_days),
                        Field(max_length=500, json_schema_extra={"pattern": CLOSURE_PATTERN})]


class OrganisationChange(BaseModel):
    """What the secretariat changes: only the fields it sends change."""

    model_config = ConfigDict(extra="forbid")

    name: Text100 | None = Field(default=None, description="団体の名称（例: 千葉市）: the letterhead of its papers")
    head_title: Text100 | None = Field(default=None, description="答申の宛先となる長（例: 千葉市長、福岡県知事）")
    closure_days: ClosureDays | None = Field(
        default=None, description="土日・祝日のほかの閉庁日（毎年）: 「12-29..01-03」「08-15」をカンマで区切る。空欄: なし")
    closed_dates: list[RecordDate] | None = Field(default=None, max_length=200,
                                                  description="臨時閉庁日（その年限り）: YYYY-MM-DD")

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude_none=True)


def calendar_of(session: Session, organisation_id: int | None) -> BusinessCalendar:
    """The business-day calendar of the organisation's record (the default one when it has no row)."""
    organisation = session.get(Organisation, organisation_id) if organisation_id is not None else None
    return DEFAULT_CALENDAR if organisation is None else _calendar_of_row(organisation)


def _calendar_of_row(organisation: Organisation) -> BusinessCalendar:
    return _calendar(organisation.closure_days, tuple(sorted(organisation.closed_dates)))


@lru_cache(maxsize=4096)
def _calendar(closure_days: str, closed_dates: tuple[str, ...]) -> BusinessCalendar:
    return BusinessCalendar.from_settings(closure_days, [date.fromisoformat(day) for day in closed_dates])


def own_organisation(db: Database, actor: Actor) -> Organisation:
    """The actor's organisation, as everyone signed in to it may read it."""
    authorize(actor, Action.READ_OWN_ACCOUNT)
    with db.reading(actor) as session:
        return _row(session, actor)


def change(db: Database, clock: Clock, actor: Actor, data: OrganisationChange) -> Organisation:
    """The secretariat changes its organisation's name, head or closure days. A change of the closure days
    has the organisation's reminders recomputed (by the sweep after this commit)."""
    authorize(actor, Action.MANAGE_ORGANISATION)
    values = data.changes()
    if "closed_dates" in values:
        values["closed_dates"] = sorted({day.isoformat() for day in values["closed_dates"]})
    now = clock.now()
    with db.writing(actor) as session:
        organisation = _row(session, actor)
        before = {name: getattr(organisation, name) for name in values}
        changed = _apply(session, organisation, values, now)
        if changed:
            audit.record(session, audit_actor(actor), "organisation.changed", at=now, object_type="organisation",
                         object_id=organisation.id,
                         detail={name: {"before": before[name], "after": value} for name, value in changed.items()})
    return organisation


def apply_to_first(db: Database, clock: Clock, data: OrganisationChange) -> None:
    """The install's first organisation as the settings name it (SHINGI_ORGANISATION, _HEAD, _CLOSURE_DAYS),
    at start; what they leave out stays as it is."""
    values = data.changes()
    if not values:
        return
    with db.writing(of(DEFAULT_ORGANISATION)) as session:
        first = session.get(Organisation, DEFAULT_ORGANISATION)
        if first is not None:
            _apply(session, first, values, clock.now())


def _apply(session: Session, organisation: Organisation, values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Write `values` into the row; what differs from before is returned. Moved closure days have the
    organisation's reminders planned again (by the sweep after this commit)."""
    changed = {name: value for name, value in values.items() if getattr(organisation, name) != value}
    for name, value in changed.items():
        setattr(organisation, name, value)
    session.add(organisation)
    if changed.keys() & {"closure_days", "closed_dates"}:
        changes.all_changed(session, now)
    return changed


def closed_days_ahead(organisation: Organisation, today: date, days: int = UPCOMING_DAYS) -> list[tuple[date, str]]:
    """The weekdays the organisation is closed in the next `days` days, with why (holiday, closure)."""
    calendar = _calendar_of_row(organisation)
    ahead = (today + timedelta(days=offset) for offset in range(days))
    return [(day, reason) for day in ahead if day.weekday() < 5 and (reason := calendar.closed_reason(day))]


def _row(session: Session, actor: Actor) -> Organisation:
    organisation = session.get(Organisation, actor.organisation_id) if actor.organisation_id is not None else None
    if organisation is None:  # the system acts for every organisation and has none of its own
        raise NotFound(Message("団体が特定できません。", "No organisation is named."))
    return organisation
