"""A Mermaid state diagram drawn from a procedure definition (the same data the engine runs)."""

from __future__ import annotations

from states.definition import Procedure


def mermaid(procedure: Procedure, language: str = "ja") -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {procedure.initial}"]
    for state in procedure.states.values():
        lines.append(f"    {state.name}: {state.title.in_language(language)}")
    for event in procedure.events.values():
        for source in event.sources:
            lines.append(f"    {source} --> {event.target}: {event.title.in_language(language)}")
    for state in procedure.states.values():
        if state.kind == "terminal":
            lines.append(f"    {state.name} --> [*]")
    return "\n".join(lines) + "\n"
