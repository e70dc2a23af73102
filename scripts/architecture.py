"""Draws the layers of shingi as a Mermaid diagram, from the code itself (grimp reads the imports).

    .venv/bin/python scripts/architecture.py            # print the diagram
    .venv/bin/python scripts/architecture.py --write    # put it into ARCHITECTURE.md

tests/unit/test_architecture.py checks that ARCHITECTURE.md carries the diagram as the code stands.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
#: Top to bottom, as the import-linter contract in pyproject.toml orders them.
LAYERS = ("shingi", "api", "notifications", "workflow", "states")
BEGIN, END = "<!-- diagram: begin (scripts/architecture.py) -->", "<!-- diagram: end -->"


def _modules(graph: grimp.ImportGraph, package: str) -> list[str]:
    """The package's modules one level down (a subpackage counts as one), private ones left out."""
    names = {name.split(".")[1] for name in graph.find_descendants(package) if name.count(".") >= 1}
    return sorted(name for name in names if not name.startswith("_") and name != "versions")


def diagram() -> str:
    graph = grimp.build_graph(*LAYERS)
    lines = ["```mermaid", "flowchart TB"]
    for layer in LAYERS:
        modules = " · ".join(_modules(graph, layer))
        lines.append(f'    {layer}["<b>{layer}/</b><br/>{modules}"]')
    for upper in LAYERS:
        for lower in LAYERS:
            if upper != lower and graph.direct_import_exists(importer=upper, imported=lower, as_packages=True):
                lines.append(f"    {upper} --> {lower}")
    lines.append("```")
    return "\n".join(lines)


def with_diagram(text: str, drawn: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{BEGIN}\n{drawn}\n{END}", text)


if __name__ == "__main__":
    drawn = diagram()
    if "--write" in sys.argv[1:]:
        target = ROOT / "ARCHITECTURE.md"
        target.write_text(with_diagram(target.read_text(encoding="utf-8"), drawn), encoding="utf-8")
    else:
        print(drawn)
