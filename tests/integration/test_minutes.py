"""Minutes (会議録) in the service: every status × step pair, the illegal ones too; a deadline on a closed
day moves to the next open day; confirmations racing (tests/api/test_minutes.py: the Fukuoka minutes over
HTTP through every status)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers.meetings import RACERS, race, tokyo
from tests.helpers.minutes import PASSAGES, draft, minutes_in
from tests.helpers.people import SYSTEM
from workflow import audit, minutes
from workflow.errors import Conflict
from workflow.lifecycle import MINUTES
from workflow.minutes import (
    ApplyCorrection,
    Confirmation,
    CorrectionInput,
    MinutesDraft,
    Publication,
    SendForCorrections,
)

# --- every status × step ------------------------------------------------------------------------

STATUSES = ["draft", "correcting", "confirmed", "published"]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("step", list(MINUTES.events))
def test_every_status_and_step(db, clock, held, status, step):
    meeting_id = held.meeting.id
    correction_id = minutes_in(db, clock, meeting_id, status) or 1
    calls = {
        "revise": lambda: minutes.draft(db, clock, meeting_id, MinutesDraft(passages=PASSAGES[:1]), SYSTEM),
        "send": lambda: minutes.send_for_corrections(db, clock, meeting_id,
                                                     SendForCorrections(deadline=date(2023, 12, 4)), SYSTEM),
        "correct": lambda: minutes.record_correction(db, clock, meeting_id, CorrectionInput(text="誤字"), SYSTEM),
        "apply": lambda: minutes.apply_correction(db, clock, meeting_id, correction_id, ApplyCorrection(), SYSTEM),
        "confirm": lambda: minutes.confirm(db, clock, meeting_id, Confirmation(), SYSTEM),
        "publish": lambda: minutes.publish(db, clock, meeting_id, Publication(), SYSTEM),
    }
    spec = MINUTES.events[step]
    if status in spec.sources:
        calls[step]()
        assert minutes.read(db, meeting_id, SYSTEM).minutes.status == (spec.target or status)
    else:
        with pytest.raises(Conflict) as refused:
            calls[step]()
        possible = {name for name, other in MINUTES.events.items() if status in other.sources}
        assert {event["name"] for event in refused.value.allowed_events} == possible
        assert refused.value.current_state == status
        assert minutes.read(db, meeting_id, SYSTEM).minutes.status == status


# --- the deadline -------------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "asked", "deadline", "reason"), [
    (date(2023, 11, 24), date(2023, 12, 3), date(2023, 12, 4), "日曜日"),        # Sunday → Monday
    (date(2023, 11, 24), date(2023, 12, 2), date(2023, 12, 4), "土曜日"),        # Saturday → Monday
    (date(2023, 11, 20), date(2023, 11, 23), date(2023, 11, 24), "勤労感謝の日"),  # a national holiday
    (date(2023, 12, 18), date(2023, 12, 29), date(2024, 1, 4), "年末年始"),      # the year-end closure
    (date(2023, 11, 24), date(2023, 12, 4), date(2023, 12, 4), None),            # an open day stays
])
def test_a_deadline_on_a_closed_day_moves_to_the_next_open_day(db, clock, held, today, asked, deadline, reason):
    clock.set(tokyo(today.year, today.month, today.day, 9))
    draft(db, clock, held.meeting.id)
    view = minutes.send_for_corrections(db, clock, held.meeting.id, SendForCorrections(deadline=asked), SYSTEM)
    assert view.minutes.correction_deadline == deadline
    if reason is None:
        assert view.notices == []
    else:
        assert reason in view.notices[0].ja and deadline.isoformat() in view.notices[0].en


# --- concurrency --------------------------------------------------------------------------------

def test_of_confirmations_racing_exactly_one_confirms(db, clock, held):
    minutes_in(db, clock, held.meeting.id, "correcting")
    outcomes = race([lambda: minutes.confirm(db, clock, held.meeting.id, Confirmation(), SYSTEM)] * RACERS)
    assert len([o for o in outcomes if not isinstance(o, Exception)]) == 1
    assert all(o.current_state == "confirmed" for o in outcomes if isinstance(o, Conflict))
    entries = [e for e in audit.entries(db, SYSTEM, limit=1000) if e.action == "minutes.confirmed"]
    assert len(entries) == 1
