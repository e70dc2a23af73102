"""Each organisation's own closure days and letterhead, set by its secretariat (workflow/organisation_settings.py):
the deadlines and reminders of its record follow its calendar, and no other organisation's."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from tests.helpers.core import follow_changes
from tests.helpers.people import REVIEWING_BODY
from tests.helpers.reminders import pending
from workflow.clock import TOKYO
from workflow.models import AuditEntry
from workflow.organisations import EVERY_ORGANISATION

pytestmark = pytest.mark.usefixtures("reminder_rules")

FRIDAY_MEETING = "2025-06-20T10:00:00+09:00"


def _schedule(client, starts=FRIDAY_MEETING, number=3) -> int:
    response = client.post("/api/meetings", json={"body": REVIEWING_BODY, "term": "第16期", "number": number,
                                                  "starts_at": starts, "venue": "第1会議室"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _seven_days_before(db, meeting_id) -> datetime:
    return {row.rule_key: row.due_at for row in pending(db, meeting_id)}["meeting_start_7d"]


def test_everyone_signed_in_reads_the_organisation_and_its_closed_weekdays(public, person, clock):
    clock.set(datetime(2025, 12, 1, 9, tzinfo=TOKYO))
    answer = public.get("/api/organisation", headers=person("member").headers)
    assert answer.status_code == 200, answer.text
    organisation = answer.json()
    assert (organisation["closure_days"], organisation["closed_dates"]) == ("12-29..01-03", [])
    ahead = {day["date"]: day["reason"] for day in organisation["closed_weekdays_ahead"]}
    assert ahead["2025-12-29"] == "年末年始" and ahead["2026-01-01"] == "元日" and ahead["2026-01-12"] == "成人の日"
    assert "2025-12-27" not in ahead  # a Saturday: not a weekday
    assert public.get("/api/organisation").status_code == 401


def test_a_closure_day_of_its_own_moves_the_reminders_already_computed(client, db, clock, person):
    """Fri 13 Jun becomes a closure day: the 7-day reminder of the 20 Jun meeting goes out on Thu 12 Jun."""
    person("member")
    meeting_id = _schedule(client)
    follow_changes(db, clock)
    assert _seven_days_before(db, meeting_id) == datetime(2025, 6, 13, 9, tzinfo=TOKYO)

    changed = client.patch("/api/organisation", json={"closure_days": "12-29..01-03, 06-13"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["closure_days"] == "12-29..01-03,06-13"
    assert {"date": "2025-06-13", "reason": "閉庁日"} in changed.json()["closed_weekdays_ahead"]
    follow_changes(db, clock)
    assert _seven_days_before(db, meeting_id) == datetime(2025, 6, 12, 9, tzinfo=TOKYO)

    with db.reading(EVERY_ORGANISATION) as session:
        (entry,) = session.exec(select(AuditEntry).where(AuditEntry.action == "organisation.changed")).all()
    assert entry.detail == {"closure_days": {"before": "12-29..01-03", "after": "12-29..01-03,06-13"}}

    # Sent again unchanged: nothing to record, nothing to recompute.
    assert client.patch("/api/organisation", json={"closure_days": "12-29..01-03,06-13"}).status_code == 200
    with db.reading(EVERY_ORGANISATION) as session:
        assert len(session.exec(select(AuditEntry).where(AuditEntry.action == "organisation.changed")).all()) == 1


def test_another_organisations_closure_day_changes_nothing_here(client, public, db, clock, person, foreigner):
    person("member")
    meeting_id = _schedule(client)
    changed = public.patch("/api/organisation", headers=foreigner("secretariat"),
                           json={"closure_days": "06-13", "closed_dates": ["2025-06-13"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["code"] == "402010"
    follow_changes(db, clock)
    assert _seven_days_before(db, meeting_id) == datetime(2025, 6, 13, 9, tzinfo=TOKYO)
    assert client.get("/api/organisation").json()["closure_days"] == "12-29..01-03"


def test_a_one_off_closure_moves_a_minutes_deadline_and_says_why(client, db, clock, held):
    """The minutes of the held Fukuoka meeting are sent for corrections by Fri 1 Dec 2023, a 臨時閉庁日."""
    assert client.patch("/api/organisation", json={"closed_dates": ["2023-12-01"]}).status_code == 200
    assert client.post(f"/api/meetings/{held.meeting.id}/minutes",
                      json={"passages": [{"speaker": "部会長", "text": "開会します。"}]}).status_code in (200, 201)
    sent = client.post(f"/api/meetings/{held.meeting.id}/minutes/send", json={"deadline": "2023-12-01"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["correction_deadline"] == "2023-12-04"
    assert "臨時閉庁日" in str(sent.json()["notices"])


@pytest.mark.parametrize(("body", "field", "rule"), [
    ({"closure_days": "13-01"}, "closure_days", "closure_days_format"),
    ({"closure_days": "02-30"}, "closure_days", "closure_days_format"),
    ({"closure_days": "12-29...01-03"}, "closure_days", "closure_days_format"),
    ({"closed_dates": ["2027-02-30"]}, "closed_dates.0", None),
    ({"name": "　"}, "name", None),
    ({"code": "999"}, "code", None),
])
def test_bad_settings_are_refused_naming_the_field(client, body, field, rule):
    answer = client.patch("/api/organisation", json=body)
    assert answer.status_code == 422, answer.text
    problems = {problem["field"]: problem for problem in answer.json()["error"]["fields"]}
    assert field in problems, problems
    if rule:
        assert problems[field]["rule"] == rule
        assert "12-29..01-03" in problems[field]["message"]["ja"]
    assert client.get("/api/organisation").json()["closure_days"] == "12-29..01-03"


def test_only_the_secretariat_changes_them(public, person):
    for role in ("member", "chair", "office", "admin"):
        assert public.patch("/api/organisation", headers=person(role).headers,
                            json={"closure_days": "08-15"}).status_code == 403
    assert public.patch("/api/organisation", json={"closure_days": "08-15"}).status_code == 401
