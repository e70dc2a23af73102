"""Reading and validating procedure files.

Every fault is reported at load time (that is, at start-up) as a ProcedureDefinitionError naming the
file, the procedure and the fault, so that a broken file never reaches a running case.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from states.definition import (
    ACTORS,
    ALL_ACTIVE,
    ASSESSMENT_LEVELS,
    INPUT_TYPES,
    STATE_KINDS,
    EventSpec,
    InputSpec,
    Procedure,
    ProcedureDefinitionError,
    StateSpec,
    Text,
)

SHIPPED_DIR = Path(__file__).parent / "procedures"

_PROCEDURE_KEYS = {"name", "title", "description", "initial", "levels", "states", "events"}
_STATE_KEYS = {"title", "kind", "target_days"}
_EVENT_KEYS = {"title", "from", "to", "actor", "inputs", "guards", "effects"}
_INPUT_KEYS = {
    "type", "title", "required", "choices", "minimum", "maximum", "max_length", "not_future", "field",
}


class _Reader:
    """Turns one parsed YAML document into a Procedure, raising on the first fault."""

    def __init__(self, source: str, guards: Collection[str] | None, effects: Collection[str] | None,
                 fields: Collection[str] | None):
        self.source = source
        self.known_guards = guards
        self.known_effects = effects
        self.known_fields = fields
        self.name: str | None = None

    def fail(self, fault: str) -> ProcedureDefinitionError:
        return ProcedureDefinitionError(self.source, self.name, fault)

    def text(self, value: Any, where: str) -> Text:
        if isinstance(value, str):
            return Text(ja=value, en=value)
        if isinstance(value, Mapping) and isinstance(value.get("ja"), str):
            return Text(ja=value["ja"], en=str(value.get("en", value["ja"])))
        raise self.fail(f"{where} must be a string or a mapping with 'ja' (and 'en')")

    def unknown_keys(self, given: Mapping[str, Any], allowed: set[str], where: str) -> None:
        extra = sorted(set(given) - allowed)
        if extra:
            raise self.fail(f"{where} has unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")

    def read(self, document: Any) -> Procedure:
        if not isinstance(document, Mapping):
            raise self.fail("the file must hold a mapping with name, initial, states and events")
        name = document.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            raise self.fail("'name' must be an identifier such as full_assessment")
        self.name = name
        self.unknown_keys(document, _PROCEDURE_KEYS, "the procedure")

        states = self.read_states(document.get("states"))
        initial = document.get("initial")
        if initial not in states:
            raise self.fail(f"initial state '{initial}' is not among the states ({', '.join(states)})")
        levels = tuple(document.get("levels") or ())
        for level in levels:
            if level not in ASSESSMENT_LEVELS:
                raise self.fail(f"unknown level '{level}'; levels are {', '.join(ASSESSMENT_LEVELS)}")
        events = self.read_events(document.get("events"), states)
        by_state = {
            state: tuple(event for event in events.values() if state in event.sources) for state in states
        }
        self.check_shape(states, initial, events, by_state)
        return Procedure(
            name=name,
            title=self.text(document.get("title", name), "title"),
            description=self.text(document.get("description", ""), "description"),
            initial=initial,
            levels=levels,
            states=states,
            events=events,
            source=self.source,
            _events_by_state=by_state,
        )

    def read_states(self, raw: Any) -> dict[str, StateSpec]:
        if not isinstance(raw, Mapping) or not raw:
            raise self.fail("'states' must be a non-empty mapping of state name to its description")
        states: dict[str, StateSpec] = {}
        for state_name, body in raw.items():
            body = body or {}
            where = f"state '{state_name}'"
            if not isinstance(state_name, str) or not state_name.isidentifier():
                raise self.fail(f"{where}: state names must be identifiers")
            if not isinstance(body, Mapping):
                raise self.fail(f"{where} must be a mapping")
            self.unknown_keys(body, _STATE_KEYS, where)
            kind = body.get("kind", "active")
            if kind not in STATE_KINDS:
                raise self.fail(f"{where}: kind '{kind}' is not one of {', '.join(STATE_KINDS)}")
            target_days = body.get("target_days")
            if target_days is not None and (not isinstance(target_days, int) or target_days <= 0):
                raise self.fail(f"{where}: target_days must be a positive number of days")
            states[state_name] = StateSpec(
                name=state_name, title=self.text(body.get("title", state_name), f"{where} title"),
                kind=kind, target_days=target_days,
            )
        return states

    def read_events(self, raw: Any, states: Mapping[str, StateSpec]) -> dict[str, EventSpec]:
        if not isinstance(raw, Mapping) or not raw:
            raise self.fail("'events' must be a non-empty mapping of event name to its transition")
        events: dict[str, EventSpec] = {}
        active = tuple(name for name, spec in states.items() if spec.kind == "active")
        for event_name, body in raw.items():
            where = f"event '{event_name}'"
            if not isinstance(event_name, str) or not event_name.isidentifier():
                raise self.fail(f"{where}: event names must be identifiers")
            if not isinstance(body, Mapping):
                raise self.fail(f"{where} must be a mapping")
            self.unknown_keys(body, _EVENT_KEYS, where)
            if "to" not in body or body["to"] in (None, ""):
                raise self.fail(f"{where} has no target ('to')")
            target = body["to"]
            if target not in states:
                raise self.fail(f"{where} goes to unknown state '{target}'")
            raw_sources = body.get("from")
            if raw_sources is None:
                raise self.fail(f"{where} has no source ('from')")
            sources: list[str] = []
            for source in [raw_sources] if isinstance(raw_sources, str) else list(raw_sources):
                if source == ALL_ACTIVE:
                    sources.extend(active)
                elif source in states:
                    sources.append(source)
                else:
                    raise self.fail(f"{where} starts from unknown state '{source}'")
            actor = body.get("actor", "secretariat")
            if actor not in ACTORS:
                raise self.fail(f"{where}: actor '{actor}' is not one of {', '.join(ACTORS)}")
            guards = tuple(body.get("guards") or ())
            effects = tuple(body.get("effects") or ())
            for guard in guards:
                if self.known_guards is not None and guard not in self.known_guards:
                    raise self.fail(f"{where} uses unknown guard '{guard}'")
            for effect in effects:
                if self.known_effects is not None and effect not in self.known_effects:
                    raise self.fail(f"{where} uses unknown effect '{effect}'")
            events[event_name] = EventSpec(
                name=event_name,
                title=self.text(body.get("title", event_name), f"{where} title"),
                sources=tuple(dict.fromkeys(sources)),
                target=target,
                actor=actor,
                inputs=self.read_inputs(body.get("inputs"), where),
                guards=guards,
                effects=effects,
            )
        return events

    def read_inputs(self, raw: Any, event_where: str) -> tuple[InputSpec, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, Mapping):
            raise self.fail(f"{event_where}: 'inputs' must be a mapping of input name to its type")
        specs = []
        for input_name, body in raw.items():
            where = f"{event_where} input '{input_name}'"
            if not isinstance(input_name, str) or not input_name.isidentifier():
                raise self.fail(f"{where}: input names must be identifiers")
            if input_name in ("event", "expected_version", "note", "actor"):
                raise self.fail(f"{where}: '{input_name}' is reserved")
            if isinstance(body, str):
                body = {"type": body}
            if not isinstance(body, Mapping):
                raise self.fail(f"{where} must be a type name or a mapping")
            self.unknown_keys(body, _INPUT_KEYS, where)
            input_type = body.get("type")
            if input_type not in INPUT_TYPES:
                raise self.fail(f"{where}: type '{input_type}' is not one of {', '.join(INPUT_TYPES)}")
            choices = tuple(body.get("choices") or ())
            if input_type == "choice" and not choices:
                raise self.fail(f"{where}: a choice input needs 'choices'")
            target_field = body.get("field")
            if target_field is not None and self.known_fields is not None and target_field not in self.known_fields:
                raise self.fail(f"{where} writes to unknown case field '{target_field}'")
            specs.append(InputSpec(
                name=input_name,
                type=input_type,
                title=self.text(body.get("title", input_name), f"{where} title"),
                required=bool(body.get("required", True)),
                choices=choices,
                minimum=body.get("minimum"),
                maximum=body.get("maximum"),
                max_length=int(body.get("max_length", 2000)),
                not_future=bool(body.get("not_future", False)),
                field=target_field,
            ))
        return tuple(specs)

    def check_shape(self, states: Mapping[str, StateSpec], initial: str, events: Mapping[str, EventSpec],
                    by_state: Mapping[str, tuple[EventSpec, ...]]) -> None:
        reached = {initial}
        queue = deque([initial])
        while queue:
            for event in by_state[queue.popleft()]:
                if event.target not in reached:
                    reached.add(event.target)
                    queue.append(event.target)
        unreachable = [name for name in states if name not in reached]
        if unreachable:
            raise self.fail(f"state(s) {', '.join(unreachable)} cannot be reached from '{initial}'")
        for name, spec in states.items():
            leaving = by_state[name]
            if spec.kind == "terminal" and leaving:
                raise self.fail(f"terminal state '{name}' has outgoing event(s) {', '.join(e.name for e in leaving)}")
            if spec.kind != "terminal" and not leaving:
                raise self.fail(f"state '{name}' has no outgoing event; mark it kind: terminal if it ends the procedure")


def read_procedure(path: Path, *, guards: Collection[str] | None = None, effects: Collection[str] | None = None,
                   fields: Collection[str] | None = None) -> Procedure:
    """Read and validate one procedure file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProcedureDefinitionError(str(path), None, f"cannot be read: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ProcedureDefinitionError(str(path), None, f"is not valid YAML: {error}") from error
    return _Reader(str(path), guards, effects, fields).read(document)


def procedure_files(extra_dirs: Iterable[Path] = ()) -> list[Path]:
    """The shipped procedure files, then those of each extra folder (later ones override earlier)."""
    files = sorted(SHIPPED_DIR.glob("*.yaml"))
    for folder in extra_dirs:
        if not folder.is_dir():
            raise ProcedureDefinitionError(str(folder), None, "is not a folder")
        files.extend(sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")))
    return files


def load_procedures(extra_dirs: Iterable[Path] = (), **known: Collection[str] | None) -> dict[str, Procedure]:
    """Load every procedure; a secretariat's file replaces a shipped one of the same name.

    Each assessment level must be served by exactly one procedure once overrides are applied.
    """
    procedures: dict[str, Procedure] = {}
    for path in procedure_files(extra_dirs):
        procedure = read_procedure(path, **known)
        procedures[procedure.name] = procedure
    by_level: dict[str, str] = {}
    for procedure in procedures.values():
        for level in procedure.levels:
            if level in by_level:
                raise ProcedureDefinitionError(
                    procedure.source, procedure.name,
                    f"level '{level}' is already served by procedure '{by_level[level]}'",
                )
            by_level[level] = procedure.name
    missing = [level for level in ASSESSMENT_LEVELS if level not in by_level]
    if missing:
        raise ProcedureDefinitionError("procedures", None, f"no procedure serves level(s) {', '.join(missing)}")
    return procedures
