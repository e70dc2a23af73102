"""The suite's layers: one folder of tests/ each, and a marker of the same name (pyproject.toml)."""

from pathlib import Path

#: The layers, in the order a change meets them: from pure functions to the running system.
LAYERS = ("unit", "integration", "api", "browser", "acceptance")

#: The folder of the suite (tests/).
TESTS = Path(__file__).resolve().parents[1]


def layer_of(path: Path) -> str | None:
    """The layer of a file of tests/: the folder it lies in (None outside the layers' folders)."""
    parts = path.resolve().relative_to(TESTS).parts
    return parts[0] if len(parts) > 1 and parts[0] in LAYERS else None
