"""Reading and validating procedure files.

Every fault is reported at load time (that is, at start-up) as a ProcedureDefinitionError naming the
file, the procedure and the fault, so that a broken file never reaches a running case.

A procedure file may `include` fragments: files under a `shared/` folder holding `states` and/or
`events` that several procedures have in common (publication, the annual review, withdrawal …). The
fragment is looked up in the `shared/` folder beside the including file first, then in the shipped
one; its states and events are added after the file's own, in the order the fragments are listed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from states.definition import (
    ACTORS,
    ALL_ACTIVE,
    ASSESSMENT_LEVELS,
    INPUT_TYPES,
    SERVES,
    STATE_KINDS,
    STATE_TAGS,
    EventSpec,
    InputSpec,
    Procedure,
    ProcedureDefinitionError,
    StateSpec,
    Text,
)

SHIPPED_DIR = Path(__file__).parent / "procedures"

#: The folder, beside procedure files, that holds the fragments they include (never procedures).
SHARED_FOLDER = "shared"

_PROCEDURE_KEYS = {"name", "title", "description", "serves", "initial", "levels", "include", "states", "events"}
_FRAGMENT_KEYS = {"states", "events"}
_STATE_KEYS = {"title", "kind", "target_days", "tags"}
_EVENT_KEYS = {"title", "from", "to", "actor", "inputs", "guards", "effects"}
_INPUT_KEYS = {
    "type", "title", "required", "choices", "minimum", "maximum", "max_length", "not_future", "field",
    "default_from",
}
_RESERVED_INPUTS = ("event", "expected_version", "note", "actor")

# The sections of a procedure that fragments add to, and the word naming one item of each.
_Section = Literal["states", "events"]
_ITEM_WORD: Mapping[_Section, str] = {"states": "state", "events": "event"}


@dataclass(frozen=True)
class _KnownNames:
    """Names implemented in workflow/; None means "not checked" (e.g. a file checked on its own)."""

    guards: Collection[str] | None = None
    effects: Collection[str] | None = None
    fields: Collection[str] | None = None
    defaults: Collection[str] | None = None


def _parse_yaml(path: Path, source: str, procedure: str | None, what: str) -> Any:
    """The parsed contents of `path`; `what` names the file in the fault ("" for the procedure file)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProcedureDefinitionError(source, procedure, f"{what}cannot be read: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ProcedureDefinitionError(source, procedure, f"{what}is not valid YAML: {error}") from error


class _Reader:
    """Turns one parsed YAML document into a Procedure, raising on the first fault."""

    def __init__(self, source: str, known: _KnownNames, shared_dirs: tuple[Path, ...] = ()):
        self.source = source
        self.known = known
        self.shared_dirs = shared_dirs
        self.name: str | None = None
        #: Where each included state or event came from, keyed by (section, name).
        self.origins: dict[tuple[_Section, str], str] = {}

    def fail(self, fault: str) -> ProcedureDefinitionError:
        return ProcedureDefinitionError(self.source, self.name, fault)

    def place(self, section: _Section, name: object) -> str:
        """How a fault names a state or event: with the fragment it came from, if it was included."""
        origin = self.origins.get((section, str(name)))
        described = f"{_ITEM_WORD[section]} '{name}'"
        return f"{described} (from fragment {origin})" if origin else described

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
        document = self.with_fragments(document)

        serves = self.read_serves(document.get("serves", "assessment"))
        states = self.read_states(document.get("states"))
        initial = document.get("initial")
        if initial not in states:
            raise self.fail(f"initial state '{initial}' is not among the states ({', '.join(states)})")
        levels = self.read_levels(document.get("levels"), serves)
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
            serves=serves,
        )

    # --- includes ---------------------------------------------------------------------------------

    def with_fragments(self, document: Mapping[str, Any]) -> Mapping[str, Any]:
        """The document with the states and events of its included fragments added after its own."""
        names = document.get("include")
        if names is None:
            return document
        if not isinstance(names, list) or not all(isinstance(item, str) for item in names):
            raise self.fail("'include' must be a list of fragment file names such as [withdrawal.yaml]")
        merged: dict[_Section, dict[str, Any]] = {
            section: dict(self.own_section(document, section)) for section in _ITEM_WORD
        }
        seen: set[str] = set()
        for fragment_name in names:
            if fragment_name in seen:
                raise self.fail(f"fragment '{fragment_name}' is included twice")
            seen.add(fragment_name)
            path = self.find_fragment(fragment_name)
            for section, items in self.read_fragment(path).items():
                self.merge(merged[section], section, items, str(path))
        return {**document, "states": merged["states"], "events": merged["events"]}

    def own_section(self, document: Mapping[str, Any], section: _Section) -> Mapping[str, Any]:
        raw = document.get(section)
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise self.fail(f"'{section}' must be a mapping of {_ITEM_WORD[section]} name to its description")
        return raw

    def find_fragment(self, fragment_name: str) -> Path:
        # A bare file name only: a fragment lives in a shared/ folder, never elsewhere on the disk.
        if Path(fragment_name).name != fragment_name or not fragment_name.endswith((".yaml", ".yml")):
            raise self.fail(f"fragment '{fragment_name}' must be a file name ending in .yaml, without a folder")
        for folder in self.shared_dirs:
            if (folder / fragment_name).is_file():
                return folder / fragment_name
        looked_in = ", ".join(str(folder) for folder in self.shared_dirs) or "no shared folder"
        raise self.fail(f"includes unknown fragment '{fragment_name}' (looked in {looked_in})")

    def read_fragment(self, path: Path) -> dict[_Section, Mapping[str, Any]]:
        fragment = _parse_yaml(path, self.source, self.name, f"fragment {path} ")
        where = f"fragment {path}"
        if not isinstance(fragment, Mapping) or not fragment:
            raise self.fail(f"{where} must hold a mapping with 'states' and/or 'events'")
        self.unknown_keys(fragment, _FRAGMENT_KEYS, where)
        sections: dict[_Section, Mapping[str, Any]] = {}
        for section in _ITEM_WORD:
            raw = fragment.get(section)
            if raw is None:
                continue
            if not isinstance(raw, Mapping):
                raise self.fail(f"{where}: '{section}' must be a mapping of {_ITEM_WORD[section]} name "
                                f"to its description")
            sections[section] = raw
        return sections

    def merge(self, into: dict[str, Any], section: _Section, items: Mapping[str, Any], origin: str) -> None:
        # Duplicates are refused rather than overridden: a file that means to differ from a fragment
        # writes the items itself and leaves the fragment out.
        for item_name, body in items.items():
            if item_name in into:
                earlier = self.origins.get((section, str(item_name)))
                first = f"fragment {earlier}" if earlier else self.source
                raise self.fail(f"{_ITEM_WORD[section]} '{item_name}' is defined both in {first} and in "
                                f"fragment {origin}; a name may be defined only once")
            into[item_name] = body
            self.origins[(section, str(item_name))] = origin

    # --- procedure, states, events, inputs -------------------------------------------------------------

    def read_serves(self, raw: Any) -> Literal["assessment", "consultation"]:
        if raw not in SERVES:
            raise self.fail(f"serves '{raw}' is not one of {', '.join(SERVES)}")
        return cast(Literal["assessment", "consultation"], raw)

    def read_levels(self, raw: Any, serves: str) -> tuple[str, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.fail("'levels' must be a list such as [full]")
        for level in raw:
            if level not in ASSESSMENT_LEVELS:
                raise self.fail(f"unknown level '{level}'; levels are {', '.join(ASSESSMENT_LEVELS)}")
        if raw and serves != "assessment":
            raise self.fail(f"a procedure that serves {serves} declares no levels (levels are the threshold "
                            f"levels of an assessment); remove 'levels'")
        return tuple(raw)

    def read_states(self, raw: Any) -> dict[str, StateSpec]:
        if not isinstance(raw, Mapping) or not raw:
            raise self.fail("'states' must be a non-empty mapping of state name to its description")
        states: dict[str, StateSpec] = {}
        for state_name, body in raw.items():
            body = body or {}
            where = self.place("states", state_name)
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
                kind=kind, target_days=target_days, tags=self.read_tags(body.get("tags"), kind, where),
            )
        return states

    def read_tags(self, raw: Any, kind: str, where: str) -> frozenset[str]:
        if raw is None:
            return frozenset()
        if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
            raise self.fail(f"{where}: 'tags' must be a list such as [public]")
        unknown = [tag for tag in raw if tag not in STATE_TAGS]
        if unknown:
            raise self.fail(f"{where} has unknown tag(s) {', '.join(unknown)}; allowed tags: {', '.join(STATE_TAGS)}")
        tags = frozenset(raw)
        if "ended" in tags and kind != "terminal":
            raise self.fail(f"{where}: tag 'ended' is for terminal states (a case that ended goes nowhere)")
        if "public_comment" in tags and "public" not in tags:
            raise self.fail(f"{where}: tag 'public_comment' needs tag 'public' too "
                            f"(the public must see the call for comments)")
        return tags

    def read_events(self, raw: Any, states: Mapping[str, StateSpec]) -> dict[str, EventSpec]:
        if not isinstance(raw, Mapping) or not raw:
            raise self.fail("'events' must be a non-empty mapping of event name to its transition")
        events: dict[str, EventSpec] = {}
        active = tuple(name for name, spec in states.items() if spec.kind == "active")
        for event_name, body in raw.items():
            where = self.place("events", event_name)
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
                if self.known.guards is not None and guard not in self.known.guards:
                    raise self.fail(f"{where} uses unknown guard '{guard}'")
            for effect in effects:
                if self.known.effects is not None and effect not in self.known.effects:
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
            if input_name in _RESERVED_INPUTS:
                raise self.fail(f"{where}: '{input_name}' is reserved")
            if isinstance(body, str):
                body = {"type": body}
            if not isinstance(body, Mapping):
                raise self.fail(f"{where} must be a type name or a mapping")
            self.unknown_keys(body, _INPUT_KEYS, where)
            input_type = body.get("type")
            if input_type not in INPUT_TYPES:
                raise self.fail(f"{where}: type '{input_type}' is not one of {', '.join(INPUT_TYPES)}")
            choices, choice_titles = self.read_choices(body.get("choices"), where)
            if input_type == "choice" and not choices:
                raise self.fail(f"{where}: a choice input needs 'choices'")
            target_field = body.get("field")
            if target_field is not None and self.known.fields is not None and target_field not in self.known.fields:
                raise self.fail(f"{where} writes to unknown case field '{target_field}'")
            specs.append(InputSpec(
                name=input_name,
                type=input_type,
                title=self.text(body.get("title", input_name), f"{where} title"),
                # With default_from, `required` still means "present once the default is filled in".
                required=bool(body.get("required", True)),
                choices=choices,
                minimum=body.get("minimum"),
                maximum=body.get("maximum"),
                max_length=int(body.get("max_length", 2000)),
                not_future=bool(body.get("not_future", False)),
                field=target_field,
                choice_titles=choice_titles,
                default_from=self.read_default_from(body.get("default_from"), where),
            ))
        return tuple(specs)

    def read_choices(self, raw: Any, where: str) -> tuple[tuple[str, ...], dict[str, Text]]:
        """The choice values and, when the file gives `value: title` pairs, their titles."""
        if raw is None:
            return (), {}
        if isinstance(raw, Mapping):
            titles: dict[str, Text] = {}
            for value, title in raw.items():
                if not isinstance(value, str) or not value:
                    raise self.fail(f"{where}: choice values must be non-empty strings, not {value!r}")
                titles[value] = self.text(title, f"{where} choice '{value}' title")
            return tuple(titles), titles
        if isinstance(raw, list) and all(isinstance(value, str) and value for value in raw):
            return tuple(raw), {}
        raise self.fail(f"{where}: 'choices' must be a list of values or a mapping of value to its title")

    def read_default_from(self, raw: Any, where: str) -> str | None:
        if raw is None:
            return None
        if not isinstance(raw, str) or not raw.isidentifier():
            raise self.fail(f"{where}: default_from must name a provider such as recorded_comment_count")
        known = self.known.defaults
        if known is not None and raw not in known:
            names = ", ".join(sorted(known)) or "none"
            raise self.fail(f"{where} takes its default from unknown provider '{raw}'; known providers: {names}")
        return raw

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


def shared_dirs_for(path: Path) -> tuple[Path, ...]:
    """Where the fragments a procedure file includes are looked up: beside it, then the shipped ones."""
    own, shipped = path.parent / SHARED_FOLDER, SHIPPED_DIR / SHARED_FOLDER
    return (own,) if own.resolve() == shipped.resolve() else (own, shipped)


def read_procedure(path: Path, *, guards: Collection[str] | None = None, effects: Collection[str] | None = None,
                   fields: Collection[str] | None = None, defaults: Collection[str] | None = None) -> Procedure:
    """Read and validate one procedure file, with the fragments it includes.

    guards, effects, fields and defaults (the providers named by `default_from`) are the names
    workflow/ implements; each left as None is not checked.
    """
    known = _KnownNames(guards=guards, effects=effects, fields=fields, defaults=defaults)
    document = _parse_yaml(path, str(path), None, "")
    return _Reader(str(path), known, shared_dirs_for(path)).read(document)


def procedure_files(extra_dirs: Iterable[Path] = ()) -> list[Path]:
    """The shipped procedure files, then those of each extra folder (later ones override earlier).

    Only the files directly in each folder are procedures; the fragments in `shared/` are not.
    """
    files = sorted(SHIPPED_DIR.glob("*.yaml"))
    for folder in extra_dirs:
        if not folder.is_dir():
            raise ProcedureDefinitionError(str(folder), None, "is not a folder")
        files.extend(sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")))
    return files


def load_procedures(extra_dirs: Iterable[Path] = (), *, guards: Collection[str] | None = None,
                    effects: Collection[str] | None = None, fields: Collection[str] | None = None,
                    defaults: Collection[str] | None = None) -> dict[str, Procedure]:
    """Load every procedure; a secretariat's file replaces a shipped one of the same name.

    Once replacements are applied, each assessment level must be served by exactly one procedure,
    and consultation (諮問) by exactly one.
    """
    procedures: dict[str, Procedure] = {}
    for path in procedure_files(extra_dirs):
        procedure = read_procedure(path, guards=guards, effects=effects, fields=fields, defaults=defaults)
        procedures[procedure.name] = procedure
    _check_levels_served(procedures)
    _check_consultation_served(procedures)
    return procedures


def _check_levels_served(procedures: Mapping[str, Procedure]) -> None:
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


def _check_consultation_served(procedures: Mapping[str, Procedure]) -> None:
    # Code finds the consultation procedure by `serves`, so there must be one, and only one.
    serving = [procedure for procedure in procedures.values() if procedure.serves == "consultation"]
    if not serving:
        raise ProcedureDefinitionError("procedures", None, "no procedure serves consultation")
    if len(serving) > 1:
        first, second = serving[0], serving[1]
        raise ProcedureDefinitionError(
            second.source, second.name, f"consultation is already served by procedure '{first.name}'",
        )
