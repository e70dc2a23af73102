"""The lifecycles of the deliberation records, as plain data (see lifecycles/*.yaml).

A case moves through its procedure (procedures/*.yaml). The records kept along the way move from
status to status too, more simply — no inputs, guards or effects, and the same for every council:
a meeting (会議), its minutes (会議録), a member's finding (質問・意見) and the subcommittee report or
the reply (部会報告・答申). Each lifecycle is one file:

    name: minutes
    title: {ja: 会議録, en: minutes}      # what the record is called (in the messages)
    initial: draft                        # the status a new record starts in
    statuses:
      draft:      {title: {ja: 草案, en: draft}}
      correcting: {title: {ja: 委員確認中, en: out for corrections}}
    events:
      send:
        title: {ja: 委員に確認を依頼する, en: send to the members for corrections}
        from: [draft]
        to: correcting
      correct:
        title: {ja: 修正を申し出る, en: record a correction}
        from: [correcting]
        to: "@same"                       # the event keeps the status it is fired in
        actor: [member, secretariat]      # who fires it, the usual one first (a note)

`actor` says who fires the event; who may is decided by workflow.policy, not by the file. The files
ship with the code and are not a secretariat's to replace: workflow/ implements every event, and
workflow/lifecycle.py runs them. Every fault is reported at load time (at start-up) as a
LifecycleDefinitionError naming the file, the lifecycle and the fault.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.nodes import MappingNode

from states.definition import Text

SHIPPED_LIFECYCLES_DIR = Path(__file__).parent / "lifecycles"

#: Written as the target (`to: "@same"`), the event keeps the status it is fired in.
SAME_STATUS = "@same"

#: The words an event's `actor` note may use.
LIFECYCLE_ACTORS = ("secretariat", "office", "member", "chair")

_LIFECYCLE_KEYS = {"name", "title", "initial", "statuses", "events"}
_STATUS_KEYS = {"title"}
_EVENT_KEYS = {"title", "from", "to", "actor"}


@dataclass(frozen=True)
class LifecycleEvent:
    """Something that may be done to a record in any of `sources`; it leads to `target`."""

    name: str
    title: Text
    sources: tuple[str, ...]
    #: The status the event leads to; None when it keeps the status it is fired in (`to: "@same"`).
    target: str | None
    #: Who fires it, the usual one first (a note: workflow.policy decides who may).
    actors: tuple[str, ...] = ("secretariat",)

    def possible_in(self, status: str) -> bool:
        return status in self.sources

    def leads_to(self, status: str) -> str:
        """The status after the event, fired in `status`."""
        return self.target or status


@dataclass(frozen=True)
class Lifecycle:
    """A validated lifecycle: the statuses of one kind of record and the events between them."""

    name: str
    #: What the record is called (会議, 会議録 …).
    title: Text
    initial: str
    #: status name → its title, in the order the file declares them.
    statuses: Mapping[str, Text]
    #: event name → the event, in the order the file declares them.
    events: Mapping[str, LifecycleEvent]
    source: str = "<memory>"

    def events_from(self, status: str) -> tuple[LifecycleEvent, ...]:
        """The events possible in `status`, in the order the file declares them."""
        return tuple(event for event in self.events.values() if status in event.sources)

    def status_title(self, status: str) -> Text:
        """The title of `status`; the name itself for a status the file does not declare."""
        return self.statuses.get(status) or Text(ja=status, en=status)


class LifecycleDefinitionError(ValueError):
    """A lifecycle file is malformed; the message names the file, the lifecycle and the fault."""

    def __init__(self, source: str, lifecycle: str | None, fault: str):
        self.source = source
        self.lifecycle = lifecycle
        self.fault = fault
        where = f"{source}: lifecycle '{lifecycle}'" if lifecycle else source
        super().__init__(f"{where}: {fault}")


class _Loader(yaml.SafeLoader):
    """safe_load that notes a key given twice in one mapping (plain YAML keeps the last silently)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        #: (key, line first given, line given again)
        self.duplicates: list[tuple[str, int, int]] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                continue  # the base class refuses it
            if key in seen:
                self.duplicates.append((str(key), seen[key], line))
            else:
                seen[key] = line
        return super().construct_mapping(node, deep)


def _parse(path: Path) -> tuple[Any, list[tuple[str, int, int]]]:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LifecycleDefinitionError(source, None, f"cannot be read: {error.strerror}") from error
    loader = _Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    except yaml.YAMLError as error:
        raise LifecycleDefinitionError(source, None, f"is not valid YAML: {error}") from error
    finally:
        loader.dispose()


class _Reader:
    """Turns one parsed document into a Lifecycle, raising on the first fault."""

    def __init__(self, source: str):
        self.source = source
        self.name: str | None = None

    def fail(self, fault: str) -> LifecycleDefinitionError:
        return LifecycleDefinitionError(self.source, self.name, fault)

    def unknown_keys(self, given: Mapping[Any, Any], allowed: set[str], where: str) -> None:
        extra = sorted(str(key) for key in set(given) - allowed)
        if extra:
            raise self.fail(f"{where} has unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")

    def text(self, value: Any, where: str) -> Text:
        # Both languages, always: the titles reach the API and the messages of a refusal.
        if (not isinstance(value, Mapping) or not isinstance(value.get("ja"), str) or not value["ja"]
                or not isinstance(value.get("en"), str) or not value["en"]):
            raise self.fail(f"{where} must be a mapping with 'ja' and 'en', such as {{ja: 草案, en: draft}}")
        return Text(ja=value["ja"], en=value["en"])

    def read(self, document: Any, duplicates: list[tuple[str, int, int]]) -> Lifecycle:
        if not isinstance(document, Mapping):
            raise self.fail("the file must hold a mapping with name, title, initial, statuses and events")
        name = document.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            raise self.fail("'name' must be an identifier such as minutes")
        self.name = name
        if duplicates:
            key, first, again = duplicates[0]
            raise self.fail(f"'{key}' is declared twice (lines {first} and {again}); a name is declared only once")
        self.unknown_keys(document, _LIFECYCLE_KEYS, "the lifecycle")
        title = self.text(document.get("title"), "'title' (what the record is called)")
        statuses = self.read_statuses(document.get("statuses"))
        initial = document.get("initial")
        if initial not in statuses:
            raise self.fail(f"initial status '{initial}' is not among the statuses ({', '.join(statuses)})")
        events = self.read_events(document.get("events"), statuses)
        self.check_reachable(statuses, str(initial), events)
        return Lifecycle(name=name, title=title, initial=str(initial), statuses=MappingProxyType(statuses),
                         events=MappingProxyType(events), source=self.source)

    def read_statuses(self, raw: Any) -> dict[str, Text]:
        if not isinstance(raw, Mapping) or not raw:
            raise self.fail("'statuses' must be a non-empty mapping of status name to its title")
        statuses: dict[str, Text] = {}
        for status, body in raw.items():
            where = f"status '{status}'"
            if not isinstance(status, str) or not status.isidentifier():
                raise self.fail(f"{where}: status names must be identifiers")
            if not isinstance(body, Mapping):
                raise self.fail(f"{where} must be a mapping such as {{title: {{ja: 草案, en: draft}}}}")
            self.unknown_keys(body, _STATUS_KEYS, where)
            statuses[status] = self.text(body.get("title"), f"{where} title")
        return statuses

    def read_events(self, raw: Any, statuses: Mapping[str, Text]) -> dict[str, LifecycleEvent]:
        if not isinstance(raw, Mapping) or not raw:
            raise self.fail("'events' must be a non-empty mapping of event name to what it does")
        events: dict[str, LifecycleEvent] = {}
        for event, body in raw.items():
            where = f"event '{event}'"
            if not isinstance(event, str) or not event.isidentifier():
                raise self.fail(f"{where}: event names must be identifiers")
            if not isinstance(body, Mapping):
                raise self.fail(f"{where} must be a mapping with title, from and to")
            self.unknown_keys(body, _EVENT_KEYS, where)
            events[event] = LifecycleEvent(
                name=event, title=self.text(body.get("title"), f"{where} title"),
                sources=self.read_sources(body.get("from"), statuses, where),
                target=self.read_target(body.get("to"), statuses, where),
                actors=self.read_actors(body.get("actor"), where),
            )
        return events

    def read_sources(self, raw: Any, statuses: Mapping[str, Text], where: str) -> tuple[str, ...]:
        sources = [raw] if isinstance(raw, str) else raw
        if not isinstance(sources, list) or not sources or not all(isinstance(item, str) for item in sources):
            raise self.fail(f"{where}: 'from' must name the status(es) it is possible in, such as [draft]")
        for status in sources:
            if status not in statuses:
                raise self.fail(f"{where} starts from unknown status '{status}'; statuses: {', '.join(statuses)}")
        repeated = sorted({status for status in sources if sources.count(status) > 1})
        if repeated:
            raise self.fail(f"{where} names status(es) {', '.join(repeated)} twice in 'from'")
        return tuple(sources)

    def read_target(self, raw: Any, statuses: Mapping[str, Text], where: str) -> str | None:
        if raw is None or raw == "":
            raise self.fail(f"{where} has no target: give 'to' a status (or \"{SAME_STATUS}\" when the event "
                            f"keeps the status it is fired in)")
        if raw == SAME_STATUS:
            return None
        if raw not in statuses:
            raise self.fail(f"{where} leads to unknown status '{raw}'; statuses: {', '.join(statuses)} "
                            f"(or \"{SAME_STATUS}\")")
        return str(raw)

    def read_actors(self, raw: Any, where: str) -> tuple[str, ...]:
        if raw is None:
            return ("secretariat",)
        actors = [raw] if isinstance(raw, str) else raw
        if not isinstance(actors, list) or not actors or not all(isinstance(item, str) for item in actors):
            raise self.fail(f"{where}: 'actor' must be a role or a list of roles such as [member, secretariat]")
        unknown = [actor for actor in actors if actor not in LIFECYCLE_ACTORS]
        if unknown:
            raise self.fail(f"{where} has unknown actor(s) {', '.join(unknown)}; actors: {', '.join(LIFECYCLE_ACTORS)}")
        if len(set(actors)) != len(actors):
            raise self.fail(f"{where} names an actor twice")
        return tuple(actors)

    def check_reachable(self, statuses: Mapping[str, Text], initial: str,
                        events: Mapping[str, LifecycleEvent]) -> None:
        reached = {initial}
        queue = deque([initial])
        while queue:
            status = queue.popleft()
            for event in events.values():
                if status in event.sources and event.target is not None and event.target not in reached:
                    reached.add(event.target)
                    queue.append(event.target)
        unreachable = [status for status in statuses if status not in reached]
        if unreachable:
            raise self.fail(f"status(es) {', '.join(unreachable)} cannot be reached from '{initial}'")


def read_lifecycle(path: Path) -> Lifecycle:
    """Read and validate one lifecycle file."""
    document, duplicates = _parse(path)
    return _Reader(str(path)).read(document, duplicates)


def load_lifecycles(folders: Iterable[Path] = (SHIPPED_LIFECYCLES_DIR,)) -> dict[str, Lifecycle]:
    """Every lifecycle of the folders' *.yaml files, by name; two files of one name are a fault."""
    lifecycles: dict[str, Lifecycle] = {}
    for folder in folders:
        if not folder.is_dir():
            raise LifecycleDefinitionError(str(folder), None, "is not a folder")
        for path in sorted(folder.glob("*.yaml")):
            lifecycle = read_lifecycle(path)
            if lifecycle.name in lifecycles:
                raise LifecycleDefinitionError(lifecycle.source, lifecycle.name,
                                               f"is already defined in {lifecycles[lifecycle.name].source}")
            lifecycles[lifecycle.name] = lifecycle
    return lifecycles
