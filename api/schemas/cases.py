"""Cases (assessments and consultations): the case with the events it allows now, and its history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from api.errors import LocalisedText
from api.schemas.common import from_row
from workflow.engine import Workflows
from workflow.models import Assessment, HistoryEntry
from workflow.service import allowed_events
from workflow.threshold import LEVEL_TITLES, Level


class AllowedEventInput(BaseModel):
    name: str
    type: str
    required: bool
    title: LocalisedText
    choices: list[str] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    not_future: bool | None = None


class AllowedEvent(BaseModel):
    name: str
    title: LocalisedText
    to: str
    actor: str
    inputs: list[AllowedEventInput]


class AssessmentOut(BaseModel):
    id: int
    title: str
    office: str
    kind: str
    consultation_type: str | None
    target_count: int | None
    handler_count: int | None
    serious_incident: bool
    voluntary_level: str | None
    level: str | None
    level_title: LocalisedText | None
    procedure: str
    procedure_title: LocalisedText
    state: str
    state_title: LocalisedText
    state_kind: str
    version: int
    cycle: int
    planned_holding_date: date | None
    comment_start: date | None
    comment_end: date | None
    comment_shortened_reason: str | None
    comment_count: int | None
    reported_on: date | None
    submitted_on: date | None
    published_on: date | None
    last_reviewed_on: date | None
    annual_review_due: date | None
    reassessment_due: date | None
    withdrawn_reason: str | None
    body_id: int | None
    state_entered_at: datetime
    state_target_days: int | None
    created_at: datetime
    updated_at: datetime
    allowed_events: list[AllowedEvent]


class AssessmentPage(BaseModel):
    items: list[AssessmentOut]
    total: int
    limit: int
    offset: int


class HistoryOut(BaseModel):
    id: int
    cycle: int
    at: datetime
    actor: str
    event: str
    from_state: str | None
    to_state: str
    procedure: str
    version: int
    note: str | None
    inputs: dict[str, Any]  # the event's inputs as recorded: JSON values


def assessment_out(case: Assessment, workflows: Workflows) -> AssessmentOut:
    procedure = workflows.procedure(case.procedure)
    state = procedure.states[case.state]
    return from_row(
        AssessmentOut, case,
        level_title=_level_title(case.level),
        procedure_title=procedure.title.as_dict(),
        state_title=state.title.as_dict(),
        state_kind=state.kind,
        state_target_days=state.target_days,
        allowed_events=allowed_events(procedure, case.state),
    )


def _level_title(level: str | None) -> dict[str, str] | None:
    if level is None:
        return None
    ja, en = LEVEL_TITLES[Level(level)]
    return {"ja": ja, "en": en}


def history_out(entry: HistoryEntry) -> HistoryOut:
    return from_row(HistoryOut, entry)
