"""Reminders as rows: derived from the records, re-timed when facts change, delivered exactly once
(tests/api/test_reminders.py: over HTTP; many workers at once: tests/acceptance/test_worker.py)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from notifications.following import Follower
from notifications.models import Notice, Reminder
from tests.helpers.core import deliver_due, follow_changes
from tests.helpers.people import REVIEWING_BODY
from tests.helpers.reminders import case_reminders, move_meeting, pending, schedule_meeting
from workflow.clock import TOKYO
from workflow.engine import Workflows
from workflow.models import Assessment, UserAccount
from workflow.organisations import EVERY_ORGANISATION

pytestmark = pytest.mark.usefixtures("reminder_rules")


def test_scheduling_a_meeting_creates_reminders_for_its_members(db, clock, person):
    member, chair = person("member"), person("chair")
    person("secretariat")
    person("other_member")
    meeting = schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    rows = pending(db, meeting.id)
    with db.reading(EVERY_ORGANISATION) as session:
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
    with db.reading(EVERY_ORGANISATION) as session:
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
    with db.reading(EVERY_ORGANISATION) as session:
        kinds = [n.kind for n in session.exec(select(Notice).where(Notice.channel == "inbox")).all()]
    assert kinds == ["reminder", "cancellation"]


def test_after_downtime_missed_reminders_go_out_once_with_their_due_time(db, clock, person):
    person("member")
    schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    clock.set(datetime(2025, 6, 19, 15, tzinfo=TOKYO))  # down since before the 7-day and the 1-day reminders
    assert deliver_due(db, clock) == 2
    assert deliver_due(db, clock) == 0
    with db.reading(EVERY_ORGANISATION) as session:
        notices = session.exec(select(Notice).where(Notice.channel == "inbox").order_by(Notice.due_at)).all()
    assert [n.due_at for n in notices] == [datetime(2025, 6, 13, 9, tzinfo=TOKYO), datetime(2025, 6, 19, 9, tzinfo=TOKYO)]
    assert "令和7年6月13日" in notices[0].body_text  # the original due time is shown


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
    with db.reading(EVERY_ORGANISATION) as session:  # the recomputation is not a change of the case
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
    with db.reading(EVERY_ORGANISATION) as session:  # the 3-day reminders are still pending in their rows, due since 6/26
        assert session.exec(select(func.count()).select_from(Reminder).where(
            Reminder.rule_key == "public_comment_end_3d", Reminder.status == "pending")).one() == 2
    assert deliver_due(db, clock) == 0  # not recomputed yet: held back
    assert (follow_changes(db, clock, workflows), deliver_due(db, clock))[1] == 0  # recomputed: withdrawn
    with db.reading(EVERY_ORGANISATION) as session:
        assert session.exec(select(func.count()).select_from(Notice)).one() == 0
        statuses = set(session.exec(select(Reminder.status).where(Reminder.rule_key == "public_comment_end_3d")).all())
    assert statuses == {"withdrawn"}


def test_a_case_whose_procedure_is_no_longer_loaded_does_not_hold_up_the_others(make_case, db, clock, workflows,
                                                                                 person):
    person("secretariat")
    orphan = make_case(procedure="consultation")
    case = make_case("published")
    without = Workflows({name: procedure for name, procedure in workflows.procedures.items() if name != "consultation"})
    assert Follower(db, without, clock, None).follow_cases() == 2  # both looked at; the orphan left as it was
    assert {row.rule_key for row in case_reminders(db, clock, without, case.id)} >= {"annual_review_30d"}
    assert case_reminders(db, clock, without, orphan.id) == []
