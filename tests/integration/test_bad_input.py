"""The services refuse bad input themselves, naming the field and the rule, before anything reaches the
database — whoever calls them (the API, the pages, the scheduler, the operators' commands).
Over HTTP: tests/api/test_bad_input.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import select

from notifications import reminders
from notifications.models import ReminderRule
from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow import accounts, documents, findings, report_versions, scheduled_events, service
from workflow.clock import TOKYO
from workflow.documents import Upload
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.models import ScheduledEvent, UserAccount
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Classification

PDF = b"%PDF-1.4\n% bad input\n"


def problems(refused: pytest.ExceptionInfo[InvalidInput]) -> set[tuple[str, str]]:
    return {(problem.field, problem.rule) for problem in refused.value.problems}


# --- reminder rules -------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["enabled", "counts", "offset_days", "offset_unit", "recipients", "channels"])
def test_a_rule_change_never_holds_null(field):
    with pytest.raises(ValidationError) as refused:
        reminders.RuleChange.model_validate({field: None})
    assert [(error["loc"], error["type"]) for error in refused.value.errors()] == [((field,), "not_null")]


def test_a_rule_change_changes_what_it_names_only(db, clock):
    reminders.ensure_default_rules(db)
    before = next(rule for rule in reminders.rules(db, SYSTEM) if rule.key == "meeting_start_7d")
    rule = reminders.change_rule(db, "meeting_start_7d", reminders.RuleChange(enabled=False, custom_message=""),
                                 SYSTEM, clock.now())
    assert (rule.enabled, rule.custom_message) == (False, None)
    assert (rule.channels, rule.recipients, rule.offset_days) == (before.channels, before.recipients,
                                                                 before.offset_days)


@pytest.mark.parametrize("key", ["no_such_rule", "a\x00b"])
def test_an_unknown_rule_is_not_found(db, clock, key):
    reminders.ensure_default_rules(db)
    with pytest.raises(NotFound):
        reminders.change_rule(db, key, reminders.RuleChange(enabled=False), SYSTEM, clock.now())
    with db.reading(EVERY_ORGANISATION) as session:  # (the transaction is whole: the database did not refuse the key)
        assert session.exec(select(ReminderRule).where(ReminderRule.key == "meeting_start_7d")).one().enabled


# --- scheduled events -----------------------------------------------------------------------------

@pytest.mark.parametrize(("run_at", "rule"), [
    (datetime(1, 1, 1), "date_range"),
    (datetime(9999, 12, 31, 23, 59, 59), "date_range"),
    (datetime.fromisoformat("9999-12-31T23:59:59-12:00"), "date_range"),
    (datetime(1970, 1, 1, tzinfo=TOKYO), "date_range"),
    (datetime(2025, 6, 2, 8, 58, 59, tzinfo=TOKYO), "not_past"),
])
def test_an_event_is_scheduled_within_the_dates_and_not_in_the_past(db, workflows, clock, make_case, run_at, rule):
    case = make_case("drafted")
    with pytest.raises(InvalidInput) as refused:
        scheduled_events.schedule(db, workflows, clock, case.id, "withdraw", run_at, {"reason": "事務の廃止"}, SYSTEM)
    assert problems(refused) == {("run_at", rule)}
    with db.reading(EVERY_ORGANISATION) as session:
        assert session.exec(select(ScheduledEvent)).all() == []


def test_a_minute_late_is_still_now(db, workflows, clock, make_case):
    case = make_case("drafted")
    row = scheduled_events.schedule(db, workflows, clock, case.id, "withdraw",
                                    clock.now() - scheduled_events.PAST_TOLERANCE, {"reason": "事務の廃止"}, SYSTEM)
    assert row.status == "pending"
    assert scheduled_events.fire_due(db, workflows, clock, worker="test") == 1


def test_the_same_event_at_the_same_moment_is_a_conflict(db, workflows, clock, make_case):
    case = make_case("drafted")
    run_at = clock.now() + timedelta(days=3)
    scheduled_events.schedule(db, workflows, clock, case.id, "withdraw", run_at, {"reason": "事務の廃止"}, SYSTEM)
    with pytest.raises(Conflict):
        scheduled_events.schedule(db, workflows, clock, case.id, "withdraw", run_at, {"reason": "二度目"}, SYSTEM)


def test_scheduled_inputs_are_the_event_s(db, workflows, clock, make_case):
    case = make_case("drafted")
    with pytest.raises(InvalidInput) as refused:
        scheduled_events.schedule(db, workflows, clock, case.id, "open_public_comment", clock.now() + timedelta(days=1),
                                  {"comment_start": "2025-06-10", "comment_end": "x\x00", "extra": 1}, SYSTEM)
    assert problems(refused) == {("inputs.comment_end", "date"), ("inputs.extra", "unknown_field")}


# --- event inputs: strict, and within the columns ---------------------------------------------------

@pytest.mark.parametrize("count", ["0", True, 1.5, 2**31])
def test_an_event_s_number_is_a_number_that_fits(db, workflows, clock, make_case, count):
    case = make_case("public_comment")
    with pytest.raises(InvalidInput) as refused:
        service.advance(db, workflows, clock, case.id, event="close_public_comment", expected_version=case.version,
                        inputs={"comment_count": count}, actor=SYSTEM)
    assert problems(refused) <= {("comment_count", "integer"), ("comment_count", "maximum")}
    assert len(refused.value.problems) == 1


# --- accounts -------------------------------------------------------------------------------------

def test_a_sign_in_with_control_characters_is_refused_before_any_look_up(db, clock):
    with pytest.raises(InvalidInput) as refused:
        accounts.sign_in(db, clock, "x@y.jp\x00", "password", "203.0.113.1")
    assert problems(refused) == {("email", "no_control_characters")}


def test_disabling_an_address_with_control_characters_finds_no_one(db, clock):
    with pytest.raises(NotFound):
        accounts.disable_user(db, clock, "a\x00b@x.jp", SYSTEM)


def test_the_system_s_role_cannot_be_given(db, clock):
    with pytest.raises(ValidationError) as refused:
        accounts.NewUser(email="sys@example.jp", display_name="システム", roles={"secretariat", "system"})
    (error,) = refused.value.errors()
    assert (error["loc"], error["type"]) == (("roles",), "literal_error")
    assert "system" not in error["msg"] and "secretariat" in error["msg"]
    with db.reading(EVERY_ORGANISATION) as session:
        assert session.exec(select(UserAccount)).all() == []


# --- documents -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "filename", "field"), [("資\x00料", "資料.pdf", "title"),
                                                          ("資料", "資\x00料.pdf", "file"),
                                                          ("資料", "資料\x1f.pdf", "file")])
def test_an_upload_s_text_is_text(db, files, clock, make_case, title, filename, field):
    case = make_case("drafted")
    with pytest.raises(InvalidInput) as refused:
        documents.attach(db, files, clock, case.id, Upload(title, filename, PDF, Classification.PUBLIC), SYSTEM, 10**6)
    assert problems(refused) == {(field, "no_control_characters")}
    assert documents.documents_of(db, case.id, SYSTEM) == []


# --- ids of another case, and ids of nothing ------------------------------------------------------

def test_a_version_of_another_case_is_told_from_one_that_is_not_there(db, clock, make_case, office):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    other = make_case("subcommittee_review", office="市民税課")  # not the office's
    version = report_versions.add_version(db, clock, other.id, report_versions.NewReportVersion(
        submitted_on=date(2025, 5, 20)), SYSTEM)
    finding = findings.raise_finding(db, clock, case.id, findings.NewFinding(raised_by="櫻井委員", text="質問"), SYSTEM)
    answer = {"answer": "回答", "resolved_in_version_id": version.version.id}
    with pytest.raises(InvalidInput) as elsewhere:
        findings.answer_finding(db, clock, finding.id, findings.FindingAnswer(**answer), SYSTEM)
    assert problems(elsewhere) == {("resolved_in_version_id", "same_case")}
    # The office may not read the other case's records: to it the version is not there.
    with pytest.raises(InvalidInput) as hidden:
        findings.answer_finding(db, clock, finding.id, findings.FindingAnswer(**answer), office)
    assert problems(hidden) == {("resolved_in_version_id", "exists")}
    assert f"ID {version.version.id}" in hidden.value.problems[0].message.ja
