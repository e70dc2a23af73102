"""One runner for the lifecycles of the deliberation records: meetings, minutes, findings, reports
and replies (states/lifecycles/*.yaml).

The services ask `require(LIFECYCLE, event, status)` before they change a record: it answers the
status the event leads to, or refuses with a Conflict (409) that names the status the record is in
(`current_state`) and the events possible there (`allowed_events`, as `allowed` lists them for clients).
The lifecycles are read once, at import: a broken file stops the service at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from states import Lifecycle, LifecycleEvent, load_lifecycles
from workflow.errors import Conflict, Message

#: Every lifecycle, by name.
LIFECYCLES: Mapping[str, Lifecycle] = MappingProxyType(load_lifecycles())

MEETING = LIFECYCLES["meeting"]
MINUTES = LIFECYCLES["minutes"]
FINDING = LIFECYCLES["finding"]
RESOLUTION = LIFECYCLES["resolution"]


def describe(event: LifecycleEvent, status: str) -> dict[str, Any]:
    """An event as clients see it, fired in `status`: its name, title and the status it leads to."""
    return {"name": event.name, "title": event.title.as_dict(), "to": event.leads_to(status)}


def allowed(lifecycle: Lifecycle, status: str) -> list[dict[str, Any]]:
    """The events possible in `status`, for clients (allowed_actions, moves) and the body of a 409."""
    return [describe(event, status) for event in lifecycle.events_from(status)]


def require(lifecycle: Lifecycle, event: str, status: str, *, version: int | None = None) -> str:
    """The status `event` leads to from `status`, or Conflict (409) listing the events possible now.

    `version` is the record's version, when it has one, for the 409's `current_version`.
    """
    spec = lifecycle.events[event]  # a KeyError is a bug: the services name only events of the file
    if spec.possible_in(status):
        return spec.leads_to(status)
    here, possible = lifecycle.status_title(status), lifecycle.events_from(status)
    listed_ja = "、".join(other.title.ja for other in possible) or "なし"
    listed_en = ", ".join(other.name for other in possible) or "none"
    raise Conflict(
        Message(f"この{lifecycle.title.ja}は「{here.ja}」のため「{spec.title.ja}」はできません（可能な操作: {listed_ja}）。",
                f"'{spec.title.en}' is not possible while the status of the {lifecycle.title.en} is "
                f"'{here.en}' (possible: {listed_en})."),
        allowed_events=allowed(lifecycle, status), current_state=status, current_version=version,
    )

