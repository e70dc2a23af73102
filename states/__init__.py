"""Procedures as data: the states and events of each deliberation procedure (see procedures/*.yaml)."""

from states.definition import (
    ASSESSMENT_LEVELS,
    SERVES,
    STATE_TAGS,
    EventSpec,
    InputSpec,
    Procedure,
    ProcedureDefinitionError,
    StateSpec,
    Text,
)
from states.loader import load_procedures, read_procedure

__all__ = [
    "ASSESSMENT_LEVELS",
    "SERVES",
    "STATE_TAGS",
    "EventSpec",
    "InputSpec",
    "Procedure",
    "ProcedureDefinitionError",
    "StateSpec",
    "Text",
    "load_procedures",
    "read_procedure",
]
