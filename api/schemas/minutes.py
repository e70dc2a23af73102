"""Minutes of a meeting (会議録): the full version, or the public one (public passages only)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

from api.errors import LocalisedText
from api.schemas.common import from_row
from api.schemas.meetings import AllowedAction, MeetingOut, meeting_out
from workflow.lifecycle import MINUTES
from workflow.minutes import MinutesView
from workflow.records import MinutesCorrection


class PassageOut(BaseModel):
    index: int | None = None  # full version only
    speaker: str
    text: str
    public: bool | None = None  # full version only


class CorrectionOut(BaseModel):
    id: int
    member: str
    received_on: date
    passage_index: int | None
    text: str
    applied: bool


class MinutesOut(BaseModel):
    meeting_id: int
    meeting: MeetingOut
    version: Literal["full", "public"]
    status: str
    status_title: LocalisedText
    passages: list[PassageOut]
    confirmed_on: date | None = None
    confirmed_by: str | None = None
    published_on: date | None = None
    # full version only
    correction_deadline: date | None = None
    sent_on: date | None = None
    corrections: list[CorrectionOut] | None = None
    allowed_actions: list[AllowedAction] | None = None
    notices: list[LocalisedText] | None = None


def correction_out(correction: MinutesCorrection) -> CorrectionOut:
    return from_row(CorrectionOut, correction)


def minutes_out(view: MinutesView) -> MinutesOut:
    record = view.minutes
    full: dict[str, object] = {}  # the correction round and the next steps: not for readers of the public version
    if view.version == "full":
        full = {"correction_deadline": record.correction_deadline, "sent_on": record.sent_on,
                "corrections": [correction_out(c) for c in view.corrections], "allowed_actions": view.allowed}
    return MinutesOut(
        meeting_id=record.meeting_id, meeting=meeting_out(view.meeting), version=view.version,
        status=record.status, status_title=MINUTES.status_title(record.status).as_dict(),
        passages=view.passages, confirmed_on=record.confirmed_on, confirmed_by=record.confirmed_by,
        published_on=record.published_on,
        notices=[notice.as_dict() for notice in view.notices] if view.notices else None,
        **full,
    )
