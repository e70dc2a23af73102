"""Response shapes of the API (requests reuse the domain's own models)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.errors import LocalisedText
from workflow.cases import MAX_ID
from workflow.engine import Workflows
from workflow.models import Assessment, HistoryEntry
from workflow.service import allowed_events
from workflow.threshold import LEVEL_TITLES, Level
from workflow.validation import Text64, Text2000


class EventRequest(BaseModel):
    """Fire an event. Any further keys are the event's inputs (see `allowed_events[].inputs`)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "event": "open_public_comment", "expected_version": 1,
        "comment_start": "2015-06-22", "comment_end": "2015-07-21", "note": "市のホームページ等で実施",
    }]})

    event: Text64
    expected_version: Annotated[int, Field(ge=1, le=MAX_ID, description="the version you last read")]
    note: Text2000 | None = None


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
    inputs: dict[str, Any]


class ThresholdOut(BaseModel):
    required_level: str
    title: LocalisedText
    procedure: str | None


def assessment_out(case: Assessment, workflows: Workflows) -> dict[str, Any]:
    procedure = workflows.procedure(case.procedure)
    state = procedure.states[case.state]
    view = case.model_dump()
    view.update(
        level_title=_level_title(case.level),
        procedure_title=procedure.title.as_dict(),
        state_title=state.title.as_dict(),
        state_kind=state.kind,
        state_target_days=state.target_days,
        allowed_events=allowed_events(procedure, case.state),
    )
    return view


def _level_title(level: str | None) -> dict[str, str] | None:
    if level is None:
        return None
    ja, en = LEVEL_TITLES[Level(level)]
    return {"ja": ja, "en": en}


def history_out(entry: HistoryEntry) -> dict[str, Any]:
    return entry.model_dump()
