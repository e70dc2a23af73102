"""Procedure definitions: the states and events of a deliberation procedure, as plain data.

A procedure file (YAML) declares its states, its events (transitions) with their sources, target,
acting role, required inputs, guards and effects, and a target duration per state. Guards and
effects are named here and implemented in `workflow/`; this module knows only their names, so a
secretariat can write a procedure file without touching Python.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
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

#: Tags a state may carry, and what each means to the code that reads it. Code asks for the states
#: carrying a tag rather than naming states, so that a secretariat's own file that renames a state
#: keeps who may see a case and which reminders go out.
STATE_TAGS: Mapping[str, str] = MappingProxyType({
    "public": "the public (not signed in) may see cases in this state (published reports, open calls for comments)",
    "public_comment": "the public comment period (意見聴取) is running",
    "review": "the third-party review (第三者点検) or the council's deliberation is under way",
    "ended": "the case ended without completing (取下げ): its deadlines no longer concern anyone",
})

#: What a procedure serves: an assessment at one or more threshold levels, or a consultation (諮問).
SERVES = ("assessment", "consultation")

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
    #: Titles of the choice values, when the file gives them (a mapping `value: {ja, en}`).
    # (`dataclasses.field`: the name `field` is taken by the attribute above.)
    choice_titles: Mapping[str, Text] = dataclasses.field(default_factory=dict, hash=False)
    #: The named provider (implemented in workflow/) that fills the value in when none is given.
    default_from: str | None = None

    @property
    def must_be_given(self) -> bool:
        """Whether the person firing the event must supply the value (a provider cannot fill it in)."""
        return self.required and self.default_from is None

    def choice_title(self, value: str) -> Text:
        """The title of a choice value; the value itself when the file names no title for it."""
        return self.choice_titles.get(value) or Text(ja=value, en=value)

    def as_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "title": self.title.as_dict(),
        }
        if self.choices:
            described["choices"] = list(self.choices)
        if self.choice_titles:
            described["choice_titles"] = {value: title.as_dict() for value, title in self.choice_titles.items()}
        if self.minimum is not None:
            described["minimum"] = self.minimum
        if self.maximum is not None:
            described["maximum"] = self.maximum
        if self.type == "text":
            described["max_length"] = self.max_length
        if self.not_future:
            described["not_future"] = True
        if self.default_from is not None:
            described["default_from"] = self.default_from
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


def _known_tag(tag: str) -> str:
    # A misspelt tag in code would silently match no state; refuse it instead.
    if tag not in STATE_TAGS:
        raise ValueError(f"unknown state tag '{tag}'; tags are {', '.join(STATE_TAGS)}")
    return tag


@dataclass(frozen=True)
class StateSpec:
    name: str
    title: Text
    kind: str = "active"
    #: How long a case should stay in this state, in days; None when open-ended.
    target_days: int | None = None
    #: What the state means to the rest of the service (see STATE_TAGS).
    tags: frozenset[str] = frozenset()

    def has(self, tag: str) -> bool:
        """Whether the state carries `tag` (one of STATE_TAGS; any other raises ValueError)."""
        return _known_tag(tag) in self.tags

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title.as_dict(),
            "kind": self.kind,
            "target_days": self.target_days,
            "tags": sorted(self.tags),
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
    #: What the procedure serves (one of SERVES): code finds the consultation procedure by this.
    serves: Literal["assessment", "consultation"] = "assessment"

    def events_from(self, state: str) -> tuple[EventSpec, ...]:
        """The events that may be fired from `state`, in the order the file declares them."""
        return self._events_by_state.get(state, ())

    def states_tagged(self, tag: str) -> frozenset[str]:
        """The names of the states carrying `tag` (one of STATE_TAGS; any other raises ValueError)."""
        wanted = _known_tag(tag)
        return frozenset(name for name, spec in self.states.items() if wanted in spec.tags)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title.as_dict(),
            "description": self.description.as_dict(),
            "serves": self.serves,
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
