"""The deliberation record (findings, report versions, public comments): meetings as rows, findings,
JSON values for property tests, and the clean-up those records need.

A module of record tests asks for the clean-up with `pytestmark = pytest.mark.usefixtures("clean_records")`.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import strategies as st
from sqlalchemy import text

from workflow.accounts import body_by_name
from workflow.clock import TOKYO
from workflow.findings import NewFinding
from workflow.organisations import EVERY_ORGANISATION
from workflow.records import Meeting


@pytest.fixture
def clean_records(db):
    """tests.helpers.database empties its own tables; the record rows that point at meetings go first
    (SQLite checks)."""
    yield
    with db.writing(EVERY_ORGANISATION) as session:
        for table in ("public_comment", "finding", "report_version", "meeting"):
            session.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def make_meeting(db, clock):
    """make_meeting(case, number, when, venue=…, status=…, body=…) → a Meeting row (meetings are another
    module's work: the row is written directly)."""

    def make(case, number: int, when: datetime, *, venue: str = "特9会議室", status: str = "held",
             body: str | None = None, term: str = "第16期") -> Meeting:
        with db.writing(EVERY_ORGANISATION) as session:
            body_id = body_by_name(session, body).id if body else case.body_id
            meeting = Meeting(body_id=body_id, term=term, number=number, starts_at=when, venue=venue,
                              status=status, created_at=clock.now(), updated_at=clock.now())
            session.add(meeting)
            session.flush()
            return meeting

    return make


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=TOKYO)


def new(**fields) -> NewFinding:
    """A finding raised by 櫻井委員 on 2025-05-20, with these fields instead."""
    return NewFinding(**{"raised_by": "櫻井委員", "raised_on": date(2025, 5, 20), "text": "質問", **fields})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
