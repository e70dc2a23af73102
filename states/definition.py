"""Procedure definitions: the states and events of a deliberation procedure, as plain data.

A procedure file (YAML) declares its states, its events (transitions) with their sources, target,
acting role, required inputs, guards and effects, and a target duration per state. Guards and
effects are named here and implemented in `workflow/`; this module knows only their names, so a
secretariat can write a procedure file without touching Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

#: Every threshold level that a procedure can serve (see workflow.threshold).
ASSESSMENT_LEVELS = ("basic", "focused", "full")

#: Roles that may be declared as the actor of an event.
ACTORS = ("secretariat", "office", "scheduler")

#: Input types a procedure file may declare.
INPUT_TYPES = ("date", "text", "int", "bool", "choice")

#: State kinds: `active` (the procedure is under way), `settled` (done, but follow-up events such
#: as the annual review remain), `terminal` (nothing more can happen).
STATE_KINDS = ("active", "settled", "terminal")

#: A source written as this word stands for every active state of the procedure.
ALL_ACTIVE = "@active"

# Dates outside this window are typing mistakes in this domain (the My Number Act dates from 2013);
# the window also keeps date arithmetic (one year on, five years on) far from datetime's limits.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


@dataclass(frozen=True)
class Text:
    """A label in Japanese (the default language) and English."""

    ja: str
    en: str

    def in_language(self, language: str) -> str:
        return self.en if language == "en" else self.ja

    def as_dict(self) -> dict[str, str]:
        return {"ja": self.ja, "en": self.en}


@dataclass(frozen=True)
class InputSpec:
    """One input an event takes from the person who fires it."""

    name: str
    type: Literal["date", "text", "int", "bool", "choice"]
    title: Text
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 2000
    #: A date of something that has happened: it cannot lie after today.
    not_future: bool = False
    #: The case attribute the value is written to, if any.
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "title": self.title.as_dict(),
        }
        if self.choices:
            described["choices"] = list(self.choices)
        if self.minimum is not None:
            described["minimum"] = self.minimum
        if self.maximum is not None:
            described["maximum"] = self.maximum
        if self.type == "text":
            described["max_length"] = self.max_length
        if self.not_future:
            described["not_future"] = True
        return described


@dataclass(frozen=True)
class EventSpec:
    """A transition: fired by `actor` from any of `sources`, it moves the case to `target`."""

    name: str
    title: Text
    sources: tuple[str, ...]
    target: str
    actor: str = "secretariat"
    inputs: tuple[InputSpec, ...] = ()
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title.as_dict(),
            "from": list(self.sources),
            "to": self.target,
            "actor": self.actor,
            "inputs": [spec.as_dict() for spec in self.inputs],
            "guards": list(self.guards),
            "effects": list(self.effects),
        }


@dataclass(frozen=True)
class StateSpec:
    name: str
    title: Text
    kind: str = "active"
    #: How long a case should stay in this state, in days; None when open-ended.
    target_days: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title.as_dict(),
            "kind": self.kind,
            "target_days": self.target_days,
        }


@dataclass(frozen=True)
class Procedure:
    """A validated procedure definition."""

    name: str
    title: Text
    description: Text
    initial: str
    levels: tuple[str, ...]
    states: Mapping[str, StateSpec]
    events: Mapping[str, EventSpec]
    source: str = "<memory>"
    _events_by_state: Mapping[str, tuple[EventSpec, ...]] = field(default_factory=dict, repr=False)

    def events_from(self, state: str) -> tuple[EventSpec, ...]:
        """The events that may be fired from `state`, in the order the file declares them."""
        return self._events_by_state.get(state, ())

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title.as_dict(),
            "description": self.description.as_dict(),
            "initial": self.initial,
            "levels": list(self.levels),
            "states": [spec.as_dict() for spec in self.states.values()],
            "events": [spec.as_dict() for spec in self.events.values()],
        }


class ProcedureDefinitionError(ValueError):
    """A procedure file is malformed; the message names the file, the procedure and the fault."""

    def __init__(self, source: str, procedure: str | None, fault: str):
        self.source = source
        self.procedure = procedure
        self.fault = fault
        where = f"{source}: procedure '{procedure}'" if procedure else source
        super().__init__(f"{where}: {fault}")
