"""Reminders as rows: derived from the records, re-timed when facts change, delivered exactly once."""

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from conftest import REVIEWING_BODY, deliver_due, follow_changes
from sqlalchemy import func
from sqlmodel import select

from notifications import following, reminders
from notifications.following import Follower
from notifications.models import Notice, Reminder, ReminderRule
from workflow import accounts, scheduled_events
from workflow.calendar import DEFAULT_CALENDAR
from workflow.changes import Subject
from workflow.clock import TOKYO
from workflow.engine import Workflows
from workflow.models import Assessment, UserAccount
from workflow.records import AgendaItem, Meeting


@pytest.fixture(autouse=True)
def rules(db):
    reminders.ensure_default_rules(db)


def schedule_meeting(db, clock, starts, body=REVIEWING_BODY, number=3):
    with db.writing() as session:
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
    with db.writing() as session:
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
    with db.reading() as session:
        return reminders.pending_for(session, "meeting", meeting_id)


def test_due_time_goes_back_to_the_open_day_before(db):
    rule = ReminderRule(key="x", watches="meeting_start", offset_days=7, template="meeting_reminder")
    # 7 days before Monday 2026-05-11 is Monday 2026-05-04 (みどりの日): it goes out on Friday 5/1.
    assert reminders.due_time(rule, datetime(2026, 5, 11, 10, tzinfo=TOKYO), DEFAULT_CALENDAR) == datetime(2026, 5, 1, 9, tzinfo=TOKYO)
    rule.offset_unit, rule.offset_days = "open", 1
    # one open day before Monday 2026-01-05 skips the year-end closure back to Monday 12/28
    assert reminders.due_time(rule, datetime(2026, 1, 5, 10, tzinfo=TOKYO), DEFAULT_CALENDAR) == datetime(2025, 12, 26, 9, tzinfo=TOKYO)


def test_scheduling_a_meeting_creates_reminders_for_its_members(db, clock, person):
    member, chair = person("member"), person("chair")
    person("secretariat")
    person("other_member")
    meeting = schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    rows = pending(db, meeting.id)
    with db.reading() as session:
        emails = {session.get(UserAccount, row.user_id).email for row in rows}
    assert emails == {member.email, chair.email, "secretariat@example.jp"}
    by_rule = {(row.rule_key, row.user_id): row.due_at for row in rows}
    assert len([key for key in by_rule if key[0] == "meeting_start_7d"]) == 2  # members and chair, not secretariat
    # 7 days before Friday 6/20 is Friday 6/13, at 09:00 in Tokyo
    assert set(due for (rule, _), due in by_rule.items() if rule == "meeting_start_7d") == {
        datetime(2025, 6, 13, 9, tzinfo=TOKYO)}


def test_moving_a_meeting_retimes_and_notifies_people_already_reminded(db, clock, person, app):
    person("member")
    meeting = schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    clock.set(datetime(2025, 6, 13, 9, 0, 1, tzinfo=TOKYO))
    assert deliver_due(db, clock) == 1  # the 7-day reminder to the member
    move_meeting(db, clock, meeting.id, datetime(2025, 6, 27, 14, tzinfo=TOKYO))
    rows = {row.rule_key: row for row in pending(db, meeting.id) if row.user_id}
    assert rows["meeting_start_1d"].due_at == datetime(2025, 6, 26, 9, tzinfo=TOKYO)
    assert rows["meeting_start_7d"].due_at == datetime(2025, 6, 20, 9, tzinfo=TOKYO)  # re-armed for the new date
    with db.reading() as session:
        changes = session.exec(select(Notice).where(Notice.kind == "change", Notice.channel == "inbox")).all()
    assert len(changes) == 1
    assert "日時変更" in changes[0].subject
    assert "令和7年6月27日（金）" in changes[0].body_text and "午後2時" in changes[0].body_text
    # the notice names the date the member was reminded of, not the new one twice
    assert "令和7年6月20日（金）午前10時から開催を予定しておりました" in changes[0].body_text


def test_cancelling_withdraws_and_tells_those_reminded(db, clock, person):
    person("member")
    meeting = schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    clock.set(datetime(2025, 6, 13, 9, 0, 1, tzinfo=TOKYO))
    deliver_due(db, clock)
    move_meeting(db, clock, meeting.id, cancel=True)
    assert pending(db, meeting.id) == []
    clock.set(datetime(2025, 6, 30, tzinfo=TOKYO))
    assert deliver_due(db, clock) == 0  # nobody is reminded of a meeting that no longer is
    with db.reading() as session:
        kinds = [n.kind for n in session.exec(select(Notice).where(Notice.channel == "inbox")).all()]
    assert kinds == ["reminder", "cancellation"]


def test_after_downtime_missed_reminders_go_out_once_with_their_due_time(db, clock, person):
    person("member")
    schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    clock.set(datetime(2025, 6, 19, 15, tzinfo=TOKYO))  # down since before the 7-day and the 1-day reminders
    assert deliver_due(db, clock) == 2
    assert deliver_due(db, clock) == 0
    with db.reading() as session:
        notices = session.exec(select(Notice).where(Notice.channel == "inbox").order_by(Notice.due_at)).all()
    assert [n.due_at for n in notices] == [datetime(2025, 6, 13, 9, tzinfo=TOKYO), datetime(2025, 6, 19, 9, tzinfo=TOKYO)]
    assert "令和7年6月13日" in notices[0].body_text  # the original due time is shown


def case_reminders(db, clock, workflows, case_id):
    """The case's pending reminders once the sweeper has caught up with its facts."""
    follow_changes(db, clock, workflows)
    with db.reading() as session:
        return reminders.pending_for(session, "assessment", case_id)


def test_case_reminders_follow_the_lifecycle(make_case, fire, db, clock, workflows, person):
    person("secretariat")
    person("office")
    case = fire(make_case("drafted", body=REVIEWING_BODY), "open_public_comment", comment_start="2025-06-02",
                comment_end="2025-07-01")
    closing = [row for row in case_reminders(db, clock, workflows, case.id) if row.rule_key == "public_comment_end_3d"]
    assert len(closing) == 2  # secretariat and office
    assert {row.due_at for row in closing} == {datetime(2025, 6, 26, 9, tzinfo=TOKYO)}  # 3 open days before 7/1
    clock.set(datetime(2025, 7, 2, 9, tzinfo=TOKYO))
    case = fire(case, "close_public_comment", comment_count=0)
    assert not [row for row in case_reminders(db, clock, workflows, case.id)
                if row.rule_key == "public_comment_end_3d"]


def test_published_cases_are_reminded_of_review_and_reassessment(make_case, db, clock, workflows, person):
    person("secretariat")
    case = make_case("published")
    dues = {row.rule_key: row.due_at for row in case_reminders(db, clock, workflows, case.id)}
    assert dues["annual_review_30d"] == datetime(2026, 4, 30, 9, tzinfo=TOKYO)  # 30 days before 2026-05-30
    assert dues["reassessment_180d"].date() <= (datetime(2030, 5, 29) - timedelta(days=180)).date()


def test_changes_to_a_case_are_recomputed_once_from_its_last_facts(make_case, fire, db, clock, workflows, person):
    person("secretariat")
    case = make_case("drafted", body=REVIEWING_BODY)
    follow_changes(db, clock, workflows)
    case = fire(case, "start_pre_check")
    case = fire(case, "request_revision")
    case = fire(case, "submit_revision")
    assert follow_changes(db, clock, workflows) == 1  # three changes, one recomputation
    assert follow_changes(db, clock, workflows) == 0
    overdue = [row for row in case_reminders(db, clock, workflows, case.id) if row.rule_key == "state_overdue"]
    assert [row.fact_at for row in overdue] == [clock.now() + timedelta(days=90)]  # subcommittee_review: 90 days
    with db.reading() as session:  # the recomputation is not a change of the case
        assert session.get(Assessment, case.id).version == case.version


def test_no_reminder_of_a_changed_case_goes_out_before_it_is_recomputed(make_case, fire, db, clock, workflows,
                                                                         person):
    """A reminder due now whose fact has just gone (the comment period was closed) is withdrawn, not sent."""
    person("secretariat")
    person("office")
    case = fire(make_case("drafted", body=REVIEWING_BODY), "open_public_comment", comment_start="2025-06-02",
                comment_end="2025-07-01")
    follow_changes(db, clock, workflows)
    clock.set(datetime(2025, 7, 2, 8, tzinfo=TOKYO))
    fire(case, "close_public_comment", comment_count=0)
    with db.reading() as session:  # the 3-day reminders are still pending in their rows, due since 6/26
        assert session.exec(select(func.count()).select_from(Reminder).where(
            Reminder.rule_key == "public_comment_end_3d", Reminder.status == "pending")).one() == 2
    assert deliver_due(db, clock) == 0  # not recomputed yet: held back
    assert (follow_changes(db, clock, workflows), deliver_due(db, clock))[1] == 0  # recomputed: withdrawn
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Notice)).one() == 0
        statuses = set(session.exec(select(Reminder.status).where(Reminder.rule_key == "public_comment_end_3d")).all())
    assert statuses == {"withdrawn"}


def test_a_disabled_rule_sends_nothing(client, db, clock, person):
    person("member")
    response = client.patch("/api/reminder-rules/meeting_start_7d", json={"enabled": False})
    assert response.status_code == 200 and response.json()["enabled"] is False
    meeting = schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    assert {row.rule_key for row in pending(db, meeting.id)} == {"meeting_start_1d"}
    bad = client.patch("/api/reminder-rules/meeting_start_7d", json={"recipients": ["everyone"]})
    assert bad.status_code == 422


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


def test_health_reports_a_scheduler_that_has_not_run(client, db, workflows, clock, jobs):
    assert client.get("/health").json()["scheduler"]["late"] is True
    jobs.tick()
    health = client.get("/health").json()
    assert health["scheduler"]["late"] is False and health["status"] == "ok"
    clock.advance(minutes=5)
    assert client.get("/health").json()["scheduler"]["status"] == "late"


# --- many workers, one database --------------------------------------------------------------------

def _fill(db, meetings=50, people=100):
    """meetings × people due reminders (one rule, inbox only)."""
    now = datetime.now(TOKYO)
    with db.writing() as session:
        rule = session.exec(select(ReminderRule).where(ReminderRule.key == "meeting_start_7d")).one()
        rule.channels = ["inbox"]
        session.add(rule)
        body = accounts.body_by_name(session, REVIEWING_BODY)
        users = [UserAccount(email=f"iin{n}@example.jp", display_name=f"委員{n}", created_at=now) for n in range(people)]
        session.add_all(users)
        rows = [Meeting(body_id=body.id, term="負荷", number=n + 1, starts_at=now + timedelta(days=3), venue="会議室",
                        created_at=now, updated_at=now) for n in range(meetings)]
        session.add_all(rows)
        session.flush()
        session.execute(Reminder.__table__.insert(), [
            {"rule_key": "meeting_start_7d", "subject_type": "meeting", "subject_id": meeting.id,
             "user_id": user.id, "fact_at": now + timedelta(days=3), "due_at": now - timedelta(minutes=5),
             "status": "pending", "created_at": now, "updated_at": now}
            for meeting in rows for user in users])


def _start_worker(db):
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url, "SHINGI_SWEEP_INTERVAL_SECONDS": "0.2",
           "SHINGI_SMTP_HOST": ""}
    return subprocess.Popen([sys.executable, "-m", "shingi.cli", "worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_two_workers_deliver_five_thousand_reminders_exactly_once_despite_a_kill(db):
    _fill(db)
    workers = [_start_worker(db), _start_worker(db)]
    try:
        deadline = time.monotonic() + 180
        killed = False
        while time.monotonic() < deadline:
            with db.reading() as session:
                sent = session.exec(select(func.count()).select_from(Reminder).where(Reminder.status == "sent")).one()
            if not killed and sent > 300:
                workers[0].send_signal(signal.SIGKILL)  # mid-delivery: its open transaction is lost, not its rows
                workers[0].wait()
                workers.append(_start_worker(db))
                killed = True
            if sent == 5000:
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=20)
    assert killed
    with db.reading() as session:
        statuses = dict(session.exec(select(Reminder.status, func.count()).group_by(Reminder.status)).all())
        notices = session.exec(select(func.count()).select_from(Notice).where(Notice.channel == "inbox")).one()
        distinct = session.exec(select(func.count(func.distinct(Notice.reminder_id)))).one()
    assert statuses == {"sent": 5000}
    assert notices == distinct == 5000


def test_an_unanswered_question_reminds_the_office_until_answered(client, make_case, db, clock, person):
    office = person("office")
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    raised = client.post(f"/api/assessments/{case.id}/findings", json={
        "raised_by": "櫻井委員", "kind": "question", "section": "Ⅲ リスク対策",
        "text": "アクセスログはどの程度の頻度で確認しているのか。"})
    assert raised.status_code == 201, raised.text
    finding = raised.json()
    follow_changes(db, clock)
    with db.reading() as session:
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
    with db.reading() as session:
        assert reminders.pending_for(session, "finding", finding["id"]) == []



def test_a_case_whose_procedure_is_no_longer_loaded_does_not_hold_up_the_others(make_case, db, clock, workflows,
                                                                                 person):
    person("secretariat")
    orphan = make_case(procedure="consultation")
    case = make_case("published")
    without = Workflows({name: procedure for name, procedure in workflows.procedures.items() if name != "consultation"})
    assert Follower(db, without, DEFAULT_CALENDAR, clock, None).follow_cases() == 2  # both looked at; the orphan left as it was
    assert {row.rule_key for row in case_reminders(db, clock, without, case.id)} >= {"annual_review_30d"}
    assert case_reminders(db, clock, without, orphan.id) == []
