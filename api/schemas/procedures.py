"""The procedures as data (states, events, the inputs each event takes) and the threshold judgment."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.errors import LocalisedText
from api.schemas.cases import AllowedEventInput
from states.definition import Procedure


class ProcedureInputOut(AllowedEventInput):
    choice_titles: dict[str, LocalisedText] | None = None
    default_from: str | None = Field(default=None, description="the provider that fills in a value not given")


class ProcedureEventOut(BaseModel):
    name: str
    title: LocalisedText
    sources: list[str] = Field(alias="from")
    to: str
    actor: str
    inputs: list[ProcedureInputOut]
    guards: list[str]
    effects: list[str]


class ProcedureStateOut(BaseModel):
    name: str
    title: LocalisedText
    kind: str
    target_days: int | None
    tags: list[str]


class ProcedureOut(BaseModel):
    """A procedure as its file defines it. An input names only the keys that apply to it (no nulls)."""

    name: str
    title: LocalisedText
    description: LocalisedText
    serves: Literal["assessment", "consultation"]
    initial: str
    levels: list[str]
    states: list[ProcedureStateOut]
    events: list[ProcedureEventOut]


def procedure_out(procedure: Procedure) -> ProcedureOut:
    # from the procedure's own description: the keys it leaves out stay unset (the routes leave them out)
    return ProcedureOut.model_validate(procedure.as_dict())


class ThresholdOut(BaseModel):
    required_level: str
    title: LocalisedText
    procedure: str | None
