"""Every table belongs to organisations or says why it does not (workflow/organisations.py)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import SQLModel

import notifications.models  # noqa: F401  (registers the tables)
import workflow.models  # noqa: F401
from workflow.organisations import owned_tables

#: The tables of the install rather than of one organisation, and why.
GLOBAL_TABLES = {
    "organisation": "the organisations themselves",
    "audit_head": "one row per organisation's chain, keyed by the organisation",
    "sign_in_throttle": "failed sign-ins by e-mail address and source, before anyone is known",
    "heartbeat": "the schedulers' sweeps, which serve every organisation",
}
MIGRATIONS = Path(__file__).resolve().parents[2] / "shingi" / "migrations" / "versions"


def test_every_table_belongs_to_organisations_or_says_why_not():
    tables = set(SQLModel.metadata.tables)
    assert set(owned_tables()) | set(GLOBAL_TABLES) == tables
    assert not set(owned_tables()) & set(GLOBAL_TABLES)


def test_every_owned_table_has_row_level_security_in_the_migrations():
    declared: set[str] = set()
    for script in MIGRATIONS.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        if "organisation_wall" in text:
            owned = re.search(r"OWNED = \(([^)]*)\)", text, re.S)
            assert owned, script.name
            declared |= set(re.findall(r'"([a-z_]+)"', owned.group(1)))
    assert declared == set(owned_tables())
