"""Reminders over HTTP: a rule disabled through the API, the inbox, events scheduled for a case, and a
question reminding the office until answered (tests/integration/test_reminders.py: reminders as rows in the
service; the scheduler's heartbeat in /ready and /metrics: tests/api/test_observability.py)."""

from datetime import datetime

import pytest

from notifications import reminders
from tests.helpers.core import deliver_due, follow_changes
from tests.helpers.people import REVIEWING_BODY
from tests.helpers.reminders import pending, schedule_meeting
from workflow import scheduled_events
from workflow.clock import TOKYO
from workflow.organisations import EVERY_ORGANISATION

pytestmark = pytest.mark.usefixtures("reminder_rules")


def test_a_disabled_rule_sends_nothing(client, db, clock, person):
    person("member")
    response = client.patch("/api/reminder-rules/meeting_start_7d", json={"enabled": False})
    assert response.status_code == 200 and response.json()["enabled"] is False
    meeting = schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    assert {row.rule_key for row in pending(db, meeting.id)} == {"meeting_start_1d"}
    bad = client.patch("/api/reminder-rules/meeting_start_7d", json={"recipients": ["everyone"]})
    assert bad.status_code == 422


def test_a_rule_changed_after_the_fact_replans_the_reminders_waiting(client, db, clock, person):
    """Counted 10 days ahead instead of 7, the meeting's reminder waiting for 13 Jun goes out on 10 Jun;
    switched off, it is withdrawn."""
    person("member")
    meeting = schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    assert {row.rule_key: row.due_at for row in pending(db, meeting.id)}["meeting_start_7d"] == datetime(
        2025, 6, 13, 9, tzinfo=TOKYO)
    assert client.patch("/api/reminder-rules/meeting_start_7d", json={"offset_days": 10}).status_code == 200
    follow_changes(db, clock)
    assert {row.rule_key: row.due_at for row in pending(db, meeting.id)}["meeting_start_7d"] == datetime(
        2025, 6, 10, 9, tzinfo=TOKYO)
    assert client.patch("/api/reminder-rules/meeting_start_7d", json={"enabled": False}).status_code == 200
    follow_changes(db, clock)
    assert {row.rule_key for row in pending(db, meeting.id)} == {"meeting_start_1d"}


def test_inbox_api(public, db, clock, person):
    member = person("member")
    schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    clock.set(datetime(2025, 6, 13, 9, 1, tzinfo=TOKYO))
    deliver_due(db, clock)
    items = public.get("/api/inbox", headers=member.headers).json()
    assert len(items) == 1 and "第16期第3回" in items[0]["subject"] + items[0]["text"]
    read = public.post(f"/api/inbox/{items[0]['id']}/read", headers=member.headers)
    assert read.status_code == 200 and read.json()["read_at"]
    assert public.get("/api/inbox", headers=member.headers, params={"unread": True}).json() == []
    other = person("other_member")
    assert public.post(f"/api/inbox/{items[0]['id']}/read", headers=other.headers).status_code == 404
    assert public.get("/api/inbox").status_code == 401


def test_scheduled_public_comment_opens_and_closes_by_itself(client, make_case, db, clock, workflows):
    case = make_case("drafted")
    opened = client.post(f"/api/assessments/{case.id}/scheduled-events", json={
        "event": "open_public_comment", "run_at": "2025-06-10T00:00:00+09:00",
        "inputs": {"comment_start": "2025-06-10", "comment_end": "2025-07-09"}})
    assert opened.status_code == 201, opened.text
    client.post(f"/api/assessments/{case.id}/scheduled-events", json={
        "event": "close_public_comment", "run_at": "2025-07-10T00:00:00"})
    assert scheduled_events.fire_due(db, workflows, clock, worker="test") == 0
    clock.set(datetime(2025, 6, 10, 0, 0, 5, tzinfo=TOKYO))
    assert scheduled_events.fire_due(db, workflows, clock, worker="test") == 1
    clock.set(datetime(2025, 7, 10, 0, 0, 5, tzinfo=TOKYO))
    assert scheduled_events.fire_due(db, workflows, clock, worker="test") == 1
    history = client.get(f"/api/assessments/{case.id}/history").json()
    assert [(h["event"], h["actor"]) for h in history[-2:]] == [
        ("open_public_comment", scheduled_events.SCHEDULER_ACTOR), ("close_public_comment", scheduled_events.SCHEDULER_ACTOR)]
    assert history[-1]["inputs"]["comment_count"] == 0
    events = client.get(f"/api/assessments/{case.id}/scheduled-events").json()
    assert [e["status"] for e in events] == ["done", "done"]


def test_an_unanswered_question_reminds_the_office_until_answered(client, make_case, db, clock, person):
    office = person("office")
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    raised = client.post(f"/api/assessments/{case.id}/findings", json={
        "raised_by": "櫻井委員", "kind": "question", "section": "Ⅲ リスク対策",
        "text": "アクセスログはどの程度の頻度で確認しているのか。"})
    assert raised.status_code == 201, raised.text
    finding = raised.json()
    follow_changes(db, clock)
    with db.reading(EVERY_ORGANISATION) as session:
        rows = reminders.pending_for(session, "finding", finding["id"])
    assert [(row.rule_key, row.due_at) for row in rows] == [
        ("finding_unanswered_14d", datetime(2025, 6, 16, 9, tzinfo=TOKYO))]  # 14 days after 6/2, a Monday
    clock.set(datetime(2025, 6, 16, 9, 0, 1, tzinfo=TOKYO))
    assert deliver_due(db, clock) == 1
    notices = client.get("/api/inbox", headers=office.headers).json()
    assert "アクセスログはどの程度の頻度で確認しているのか。" in notices[0]["text"]
    answered = client.post(f"/api/findings/{finding['id']}/answer", headers=office.headers,
                           json={"answer": "月1回、担当者が確認している。"})
    assert answered.status_code == 200, answered.text
    follow_changes(db, clock)
    with db.reading(EVERY_ORGANISATION) as session:
        assert reminders.pending_for(session, "finding", finding["id"]) == []
