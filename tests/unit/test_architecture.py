"""The house rules that keep the code in one direction, checked on the code itself."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Top to bottom: each layer may import the layers below it, never one above.
LAYERS = ("shingi", "api", "notifications", "workflow", "states")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*LAYERS)


def upward_imports(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """(lower, higher) pairs where a lower layer reaches a higher one."""
    return [(lower, higher) for index, lower in enumerate(LAYERS) for higher in LAYERS[:index]
            if graph.chain_exists(importer=lower, imported=higher, as_packages=True)]


def test_dependencies_point_one_way(graph):
    assert upward_imports(graph) == []


def test_the_check_catches_the_domain_calling_out():
    graph = grimp.build_graph(*LAYERS)
    graph.add_import(importer="workflow.service", imported="notifications.reminders")
    assert ("workflow", "notifications") in upward_imports(graph)


def test_the_import_linter_contracts_hold():
    linted = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_no_module_level_import_cycle(graph):
    cycles = sorted({tuple(sorted((importer, imported)))
                     for importer in graph.modules for imported in graph.find_modules_directly_imported_by(importer)
                     if importer != imported and graph.chain_exists(importer=imported, imported=importer)})
    assert cycles == []


def _function_local_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(ROOT)}:{node.lineno}"
            for function in ast.walk(tree) if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)]


def test_no_function_local_imports_outside_the_command_line():
    """A function-local import hides a dependency (often a cycle dodged); the CLI alone imports lazily,
    so that `shingi --help` starts at once."""
    found = [where for package in LAYERS for path in sorted((ROOT / package).rglob("*.py"))
             if "versions" not in path.parts and path != ROOT / "shingi" / "cli.py"
             for where in _function_local_imports(path)]
    assert found == []


def test_the_architecture_page_draws_the_code_as_it_stands():
    spec = importlib.util.spec_from_file_location("architecture", ROOT / "scripts" / "architecture.py")
    assert spec is not None and spec.loader is not None
    drawing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drawing)
    page = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert drawing.with_diagram(page, drawing.diagram()) == page, \
        "ARCHITECTURE.md: run .venv/bin/python scripts/architecture.py --write"
