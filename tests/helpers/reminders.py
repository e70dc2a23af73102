"""Reminders: the shipped rules in the database, meetings written as rows with their reminders
refreshed as the meetings service does, and the pending reminders of a subject.

A module of reminder tests asks for the rules with `pytestmark = pytest.mark.usefixtures("reminder_rules")`.
"""

from __future__ import annotations

import pytest

from notifications import following, reminders
from tests.helpers.core import follow_changes
from tests.helpers.people import REVIEWING_BODY
from workflow import accounts
from workflow.calendar import DEFAULT_CALENDAR
from workflow.changes import Subject
from workflow.organisations import EVERY_ORGANISATION
from workflow.records import AgendaItem, Meeting


@pytest.fixture
def reminder_rules(db):
    """The shipped reminder rules (meeting_start_7d …), as the service puts them in place at start."""
    reminders.ensure_default_rules(db)


def schedule_meeting(db, clock, starts, body=REVIEWING_BODY, number=3):
    with db.writing(EVERY_ORGANISATION) as session:
        body_row = accounts.body_by_name(session, body)
        meeting = Meeting(body_id=body_row.id, term="第16期", number=number, starts_at=starts, venue="県庁行政棟10階 特9会議室",
                          created_at=clock.now(), updated_at=clock.now())
        session.add(meeting)
        session.flush()
        session.add(AgendaItem(meeting_id=meeting.id, position=1, purpose="third_party_review",
                               title="住民基本台帳ネットワークに関する事務の第三者点検について"))
        reminders.refresh(session, Subject.MEETING, meeting.id, {"meeting_start": starts},
                          reminders.Audience(body_row.id, None), clock.now(), DEFAULT_CALENDAR,
                          tell=following.ChangeTeller(None))
    return meeting


def move_meeting(db, clock, meeting_id, starts=None, cancel=False):
    with db.writing(EVERY_ORGANISATION) as session:
        meeting = session.get(Meeting, meeting_id)
        if cancel:
            meeting.status, meeting.cancelled_reason = "cancelled", "委員の都合により"
        else:
            meeting.starts_at = starts
        meeting.sequence += 1
        session.add(meeting)
        session.flush()
        fact = None if cancel else meeting.starts_at
        reminders.refresh(session, Subject.MEETING, meeting.id, {"meeting_start": fact},
                          reminders.Audience(meeting.body_id, None), clock.now(), DEFAULT_CALENDAR,
                          tell=following.ChangeTeller(None))


def pending(db, meeting_id):
    with db.reading(EVERY_ORGANISATION) as session:
        return reminders.pending_for(session, "meeting", meeting_id)


def case_reminders(db, clock, workflows, case_id):
    """The case's pending reminders once the sweeper has caught up with its facts."""
    follow_changes(db, clock, workflows)
    with db.reading(EVERY_ORGANISATION) as session:
        return reminders.pending_for(session, "assessment", case_id)
