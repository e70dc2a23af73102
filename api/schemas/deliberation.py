"""The body's opinion (部会の意見), and the subcommittee report and the reply (答申)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from api.schemas.common import from_row
from workflow.records import Opinion, Resolution


class OpinionOut(BaseModel):
    id: int
    assessment_id: int
    cycle: int
    body_id: int
    verdict: str
    conditions: list[str]
    supplementary: list[str]
    decided_at_meeting_id: int | None
    decided_on: date
    created_at: datetime


def opinion_out(opinion: Opinion) -> OpinionOut:
    return from_row(OpinionOut, opinion)


class ResolutionOut(BaseModel):
    id: int
    assessment_id: int
    cycle: int
    kind: str
    body_id: int
    title: str
    text: str
    status: str
    delegated_to: str | None
    adopted_on: date | None
    adopted_by: str | None
    created_at: datetime
    updated_at: datetime


def resolution_out(resolution: Resolution) -> ResolutionOut:
    return from_row(ResolutionOut, resolution)
