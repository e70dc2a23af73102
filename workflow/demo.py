"""Demo cases from the seed councils (demo_cases.yaml), replayed through the real engine.

Each step is fired with the clock set to its recorded time, so the history reads as it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func
from sqlmodel import select

from workflow import service
from workflow.clock import TOKYO, FixedClock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.models import Assessment

DEMO_FILE = Path(__file__).parent / "demo_cases.yaml"


@dataclass(frozen=True)
class DemoResult:
    loaded: int
    skipped: bool


def _instant(value: Any) -> datetime:
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return instant if instant.tzinfo else instant.replace(tzinfo=TOKYO)


def _jsonish(inputs: dict[str, Any]) -> dict[str, Any]:
    return {name: value.isoformat() if hasattr(value, "isoformat") else value for name, value in inputs.items()}


def load_demo(db: Database, workflows: Workflows, path: Path = DEMO_FILE) -> DemoResult:
    """Load the demo cases into an empty database; a database that holds cases is left alone."""
    with db.reading() as session:
        if session.exec(select(func.count()).select_from(Assessment)).one():
            return DemoResult(loaded=0, skipped=True)
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in cases:
        clock = FixedClock(_instant(entry["created_at"]))
        data = service.NewAssessment(**{
            name: entry.get(name) for name in service.NewAssessment.model_fields if entry.get(name) is not None
        })
        case = service.create_assessment(db, workflows, clock, data, actor=entry.get("created_by", "事務局"))
        for step in entry.get("steps", []):
            clock.set(_instant(step["at"]))
            case = service.advance(
                db, workflows, clock, case.id, event=step["event"], expected_version=case.version,
                inputs=_jsonish(step.get("inputs") or {}), actor=step.get("actor", "事務局"), note=step.get("note"),
            )
    return DemoResult(loaded=len(cases), skipped=False)
