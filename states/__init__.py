"""Procedures as data: the states and events of each deliberation procedure (see procedures/*.yaml),
and the lifecycles of the deliberation records (see lifecycles/*.yaml)."""

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
from states.lifecycle import Lifecycle, LifecycleDefinitionError, LifecycleEvent, load_lifecycles, read_lifecycle
from states.loader import load_procedures, read_procedure

__all__ = [
    "ASSESSMENT_LEVELS",
    "SERVES",
    "STATE_TAGS",
    "EventSpec",
    "InputSpec",
    "Lifecycle",
    "LifecycleDefinitionError",
    "LifecycleEvent",
    "Procedure",
    "ProcedureDefinitionError",
    "StateSpec",
    "Text",
    "load_lifecycles",
    "load_procedures",
    "read_lifecycle",
    "read_procedure",
]
