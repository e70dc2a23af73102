"""Concurrent advances of one case: exactly one wins, the others are refused as stale."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers.cases import snapshot
from tests.helpers.people import SYSTEM
from workflow import service
from workflow.errors import StaleVersion
from workflow.organisations import EVERY_ORGANISATION

RACERS = 8


def race(db, workflows, clock, case, attempts):
    """Fire `attempts` (event, inputs) at once, all with the version the case has now."""
    barrier = threading.Barrier(len(attempts))

    def attempt(event_and_inputs):
        event, inputs = event_and_inputs
        barrier.wait()
        try:
            return service.advance(db, workflows, clock, case.id, event=event, expected_version=case.version,
                                   inputs=inputs, actor=SYSTEM)
        except StaleVersion as refused:
            return refused

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(attempt, attempts))


@pytest.mark.parametrize("round_", range(3))
def test_exactly_one_of_many_identical_advances_wins(make_case, db, workflows, clock, round_):
    case = make_case("subcommittee_review")
    outcomes = race(db, workflows, clock, case, [("request_revision", {})] * RACERS)
    winners = [o for o in outcomes if not isinstance(o, StaleVersion)]
    losers = [o for o in outcomes if isinstance(o, StaleVersion)]
    assert len(winners) == 1 and len(losers) == RACERS - 1
    assert all(loser.current_version in (None, case.version + 1) for loser in losers)
    after, entries = snapshot(db, case.id)
    assert (after["state"], after["version"]) == ("revised", case.version + 1)
    assert [e["event"] for e in entries].count("request_revision") == 1


def test_different_events_racing_leave_one_consistent_outcome(make_case, db, workflows, clock):
    case = make_case("subcommittee_review")
    attempts = [("request_revision", {}), ("withdraw", {"reason": "取下げ"}),
                ("open_public_comment", {"comment_start": "2025-06-02", "comment_end": "2025-07-01"})] * 3
    outcomes = race(db, workflows, clock, case, attempts)
    winners = [o for o in outcomes if not isinstance(o, StaleVersion)]
    assert len(winners) == 1
    after, entries = snapshot(db, case.id)
    assert after["state"] == winners[0].state
    assert after["version"] == case.version + 1
    assert len(entries) == len(service.history(db, case.id, SYSTEM)) and entries[-1]["to_state"] == winners[0].state


@pytest.mark.parametrize("round_", range(3))
def test_cases_naming_a_new_body_at_once_all_open_and_share_it(db, workflows, clock, round_):
    """The first mention of a body creates it; racing first mentions must not fail."""
    from sqlmodel import select

    from workflow.models import Body

    barrier = threading.Barrier(RACERS)
    body, office = f"新設の部会（{round_}）", "市民課"

    def open_case(number):
        barrier.wait()
        data = service.NewAssessment(title=f"事務{number}", office=office, target_count=400_000, handler_count=10,
                                     serious_incident=False, body=body)
        return service.create_assessment(db, workflows, clock, data, SYSTEM)

    with ThreadPoolExecutor(RACERS) as pool:
        cases = list(pool.map(open_case, range(RACERS)))
    with db.reading(EVERY_ORGANISATION) as session:
        bodies = session.exec(select(Body.id).where(Body.name == body)).all()
    assert len(bodies) == 1 and {case.body_id for case in cases} == set(bodies)
