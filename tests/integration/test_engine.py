"""The engine on a real database: every (state, event) pair of every procedure, every guard's pass
and fail, and that a refused advance leaves state, version and history untouched."""

from datetime import date, datetime

import pytest

from tests.helpers.cases import snapshot
from tests.helpers.people import SYSTEM
from workflow import service
from workflow.clock import TOKYO
from workflow.errors import EventNotAllowed, GuardRefused, InvalidInput, StaleVersion

#: Inputs that satisfy each event when fired from the states PATHS reaches (clock: 2 Jun 2025).
GOOD_INPUTS = {
    "start_pre_check": {},
    "open_public_comment": {"comment_start": "2025-06-02", "comment_end": "2025-07-01"},
    "close_public_comment": {"comment_count": 3},
    "close_public_comment_and_revise": {"comment_count": 0},
    "request_revision": {},
    "submit_revision": {},
    "report_to_plenary": {"reported_on": "2025-06-01"},
    "refer_back": {},
    "publish": {"submitted_on": "2025-05-26", "published_on": "2025-05-30"},
    "record_annual_review": {"reviewed_on": "2025-06-01"},
    "start_reassessment": {"reason": "five_year_term"},
    "withdraw": {"reason": "事務の廃止に伴い取り下げる"},
    "start_deliberation": {},
    "reply": {},
}


def every_pair():
    from workflow.engine import Workflows

    workflows = Workflows.load()
    for name, procedure in workflows.procedures.items():
        for state in procedure.states:
            for event in procedure.events.values():
                yield pytest.param(name, state, event.name, state in event.sources, id=f"{name}:{state}:{event.name}")


@pytest.mark.parametrize(("procedure", "state", "event", "allowed"), list(every_pair()))
def test_every_state_event_pair(make_case, fire, prepare_for, db, workflows, procedure, state, event, allowed):
    case = make_case(state, procedure)
    spec = workflows.procedure(procedure).events[event]
    if allowed:
        prepare_for(case, event)
        after = fire(case, event, **GOOD_INPUTS[event])
        assert after.state == spec.target
        assert after.version == case.version + 1
        last = service.history(db, case.id, SYSTEM)[-1]
        assert (last.event, last.from_state, last.to_state, last.version) == (event, state, after.state, after.version)
    else:
        before = snapshot(db, case.id)
        with pytest.raises(EventNotAllowed) as refused:
            fire(case, event, **GOOD_INPUTS[event])
        allowed_now = {e["name"] for e in refused.value.allowed_events}
        assert allowed_now == {e.name for e in workflows.procedure(procedure).events_from(state)}
        assert snapshot(db, case.id) == before


def test_unknown_event_is_refused_with_the_allowed_ones(make_case, fire, db):
    case = make_case("drafted")
    before = snapshot(db, case.id)
    with pytest.raises(EventNotAllowed) as refused:
        fire(case, "approve_everything")
    assert [e["name"] for e in refused.value.allowed_events] == ["start_pre_check", "open_public_comment", "withdraw"]
    assert refused.value.current_state == "drafted"
    assert snapshot(db, case.id) == before


def test_history_records_who_when_what_and_inputs(make_case, fire, db, clock):
    case = make_case("drafted")
    clock.set(datetime(2015, 6, 22, 18, 0, tzinfo=TOKYO))
    fire(case, "open_public_comment", comment_start="2015-06-22", comment_end="2015-07-21",
         note="市のホームページ等で市民意見聴取を実施")
    created, opened = service.history(db, case.id, SYSTEM)
    assert created.event == "created" and created.from_state is None and created.to_state == "drafted"
    assert created.inputs["level"] == "full" and created.inputs["target_count"] == 430_000
    assert opened.actor == "事務局 テスト"
    assert opened.at == datetime(2015, 6, 22, 18, 0, tzinfo=TOKYO)
    assert (opened.from_state, opened.to_state, opened.version, opened.cycle) == ("drafted", "public_comment", 2, 1)
    assert opened.inputs == {"comment_start": "2015-06-22", "comment_end": "2015-07-21"}
    assert opened.note == "市のホームページ等で市民意見聴取を実施"


# --- the public comment guards -----------------------------------------------------------------

def test_thirty_days_counted_inclusively_pass(make_case, fire):
    """Chiba: 2015-06-22 to 2015-07-21 is 30 days."""
    case = fire(make_case("drafted"), "open_public_comment", comment_start="2015-06-22", comment_end="2015-07-21")
    assert case.state == "public_comment"
    assert (case.comment_start, case.comment_end) == (date(2015, 6, 22), date(2015, 7, 21))


def test_twenty_nine_days_are_refused_naming_the_field_and_rule(make_case, fire, db):
    case = make_case("drafted")
    before = snapshot(db, case.id)
    with pytest.raises(InvalidInput) as refused:
        fire(case, "open_public_comment", comment_start="2015-06-22", comment_end="2015-07-20")
    (problem,) = refused.value.problems
    assert (problem.field, problem.rule) == ("comment_end", "min_30_days")
    assert "29日" in problem.message.ja and "29" in problem.message.en
    assert snapshot(db, case.id) == before


def test_a_shorter_period_passes_with_a_stated_reason(make_case, fire):
    case = fire(make_case("drafted"), "open_public_comment", comment_start="2025-06-02", comment_end="2025-06-16",
                shortened_reason="法改正の施行日に間に合わせるため")
    assert case.state == "public_comment"
    assert case.comment_shortened_reason == "法改正の施行日に間に合わせるため"


def test_a_blank_reason_does_not_count(make_case, fire):
    with pytest.raises(InvalidInput) as refused:
        fire(make_case("drafted"), "open_public_comment", comment_start="2025-06-02", comment_end="2025-06-16",
             shortened_reason="   ")
    assert refused.value.problems[0].field == "shortened_reason"


def test_an_end_before_the_start_is_refused(make_case, fire):
    with pytest.raises(InvalidInput) as refused:
        fire(make_case("drafted"), "open_public_comment", comment_start="2025-07-01", comment_end="2025-06-01")
    assert (refused.value.problems[0].field, refused.value.problems[0].rule) == ("comment_end", "not_before_start")


def test_missing_dates_are_named(make_case, fire):
    with pytest.raises(InvalidInput) as refused:
        fire(make_case("drafted"), "open_public_comment")
    assert {(p.field, p.rule) for p in refused.value.problems} == {("comment_start", "required"),
                                                                  ("comment_end", "required")}


def test_closing_before_the_period_ends_is_refused(make_case, fire, db, clock):
    case = fire(make_case("drafted"), "open_public_comment", comment_start="2025-06-02", comment_end="2025-07-01")
    clock.set(datetime(2025, 7, 1, 23, 59, tzinfo=TOKYO))  # the last day of the period, in Tokyo
    before = snapshot(db, case.id)
    for event in ("close_public_comment", "close_public_comment_and_revise"):
        with pytest.raises(GuardRefused) as refused:
            fire(case, event, comment_count=0)
        assert refused.value.rule == "public_comment_not_ended"
        assert "令和7年7月1日（火）" in refused.value.message.ja
    assert snapshot(db, case.id) == before
    clock.set(datetime(2025, 7, 2, 0, 0, tzinfo=TOKYO))
    assert fire(case, "close_public_comment", comment_count=0).state == "subcommittee_review"


def test_closing_takes_the_number_of_comments_recorded_unless_one_is_given(make_case, fire):
    """`comment_count` is filled in from the comments recorded for the cycle (default_from)."""
    case = make_case("public_comment")
    with pytest.raises(InvalidInput) as refused:
        fire(case, "close_public_comment", comment_count=-1)
    assert refused.value.problems[0].rule == "minimum"
    assert fire(case, "close_public_comment").comment_count == 0  # none recorded
    assert fire(make_case("public_comment"), "close_public_comment", comment_count=3).comment_count == 3


def test_the_office_may_revise_before_the_third_party_review(make_case, fire):
    case = fire(make_case("public_comment"), "close_public_comment_and_revise", comment_count=2)
    assert case.state == "revised"
    assert fire(case, "submit_revision").state == "subcommittee_review"


def test_chibas_order_pre_check_then_public_comment(make_case, fire, prepare_for):
    case = fire(make_case("drafted"), "start_pre_check")
    assert case.state == "subcommittee_review"
    with pytest.raises(GuardRefused) as refused:  # no report to the plenary before the public comment
        fire(case, "report_to_plenary", reported_on="2025-06-01")
    assert refused.value.rule == "public_comment_not_held"
    case = fire(case, "open_public_comment", comment_start="2025-04-01", comment_end="2025-04-30")
    case = fire(case, "close_public_comment", comment_count=0)
    prepare_for(case, "report_to_plenary")
    assert fire(case, "report_to_plenary", reported_on="2025-06-01").state == "reported_to_plenary"


def test_reopening_a_public_comment_clears_the_earlier_result(make_case, fire):
    case = fire(make_case("subcommittee_review"), "open_public_comment", comment_start="2025-06-02",
                comment_end="2025-07-01")
    assert (case.state, case.comment_count) == ("public_comment", None)
    assert (case.comment_start, case.comment_end) == (date(2025, 6, 2), date(2025, 7, 1))


# --- publication and after ----------------------------------------------------------------------

def test_publishing_needs_both_dates(make_case, fire, prepare_for):
    case = make_case("reported_to_plenary")
    prepare_for(case, "publish")
    with pytest.raises(InvalidInput) as refused:
        fire(case, "publish", published_on="2025-05-30")
    assert [(p.field, p.rule) for p in refused.value.problems] == [("submitted_on", "required")]


def test_report_to_the_plenary_needs_an_adopted_subcommittee_report(make_case, fire, db, prepare_for):
    case = make_case("subcommittee_review")
    before = snapshot(db, case.id)
    with pytest.raises(GuardRefused) as refused:
        fire(case, "report_to_plenary", reported_on="2025-06-01")
    assert refused.value.rule == "subcommittee_report_not_adopted"
    assert snapshot(db, case.id) == before
    prepare_for(case, "report_to_plenary")
    assert fire(case, "report_to_plenary", reported_on="2025-06-01").state == "reported_to_plenary"


def test_publishing_a_full_assessment_needs_an_adopted_reply(make_case, fire, prepare_for):
    case = make_case("reported_to_plenary")
    with pytest.raises(GuardRefused) as refused:
        fire(case, "publish", submitted_on="2025-05-26", published_on="2025-05-30")
    assert refused.value.rule == "reply_not_adopted"
    prepare_for(case, "publish")
    assert fire(case, "publish", submitted_on="2025-05-26", published_on="2025-05-30").state == "published"


def test_submission_comes_first(make_case, fire, db, prepare_for):
    case = make_case("reported_to_plenary")
    prepare_for(case, "publish")
    before = snapshot(db, case.id)
    with pytest.raises(InvalidInput) as refused:
        fire(case, "publish", submitted_on="2025-05-30", published_on="2025-05-29")
    assert [(p.field, p.rule) for p in refused.value.problems] == [("published_on", "not_before_submission")]
    assert snapshot(db, case.id) == before
    assert fire(case, "publish", submitted_on="2025-05-30", published_on="2025-05-30").state == "published"


def test_submission_cannot_precede_the_report_to_the_plenary(make_case, fire, prepare_for):
    case = make_case("reported_to_plenary")
    prepare_for(case, "publish")
    with pytest.raises(InvalidInput) as refused:
        fire(case, "publish", submitted_on="2025-05-19", published_on="2025-05-30")
    assert refused.value.problems[0].rule == "not_before_report"


def test_dates_of_past_facts_cannot_be_in_the_future(make_case, fire, prepare_for):
    case = make_case("reported_to_plenary")
    prepare_for(case, "publish")
    with pytest.raises(InvalidInput) as refused:
        fire(case, "publish", submitted_on="2025-06-02", published_on="2025-06-03")
    assert [(p.field, p.rule) for p in refused.value.problems] == [("published_on", "not_in_future")]


def test_publishing_sets_the_review_and_reassessment_dues(make_case):
    case = make_case("published")
    assert case.published_on == date(2025, 5, 30)
    assert case.annual_review_due == date(2026, 5, 30)
    assert case.reassessment_due == date(2030, 5, 29)  # before five years have passed


def test_leap_day_publication_is_reviewed_on_the_28th(make_case, fire, clock):
    clock.set(datetime(2024, 3, 1, 9, tzinfo=TOKYO))
    case = fire(make_case("drafted", "basic_assessment"), "publish", submitted_on="2024-02-28",
                published_on="2024-02-29")
    assert case.annual_review_due == date(2025, 2, 28)
    assert case.reassessment_due == date(2029, 2, 27)


def test_annual_review_keeps_the_case_published_and_moves_the_due_date(make_case, fire, db):
    case = fire(make_case("published"), "record_annual_review", reviewed_on="2025-06-01")
    assert case.state == "published"
    assert case.annual_review_due == date(2026, 6, 1)
    assert case.reassessment_due == date(2030, 5, 29)
    assert service.history(db, case.id, SYSTEM)[-1].inputs["outcomes"] == {"annual_review_due": "2026-06-01"}


def test_a_review_cannot_precede_the_publication(make_case, fire):
    with pytest.raises(InvalidInput) as refused:
        fire(make_case("published"), "record_annual_review", reviewed_on="2025-05-29")
    assert refused.value.problems[0].rule == "not_before_publication"


@pytest.mark.parametrize("reason", ["significant_change", "five_year_term"])
def test_reassessment_starts_a_new_cycle_and_keeps_the_old_one(make_case, fire, db, reason):
    case = fire(make_case("published"), "start_reassessment", reason=reason, note="システム更改")
    assert (case.state, case.cycle, case.procedure) == ("drafted", 2, "full_assessment")
    assert case.comment_start is None and case.comment_count is None and case.reported_on is None
    assert case.published_on == date(2025, 5, 30)  # the published report stays until the new one
    entries = service.history(db, case.id, SYSTEM)
    assert {entry.cycle for entry in entries} == {1, 2}
    assert [e.event for e in entries if e.cycle == 1][-1] == "publish"
    assert entries[-1].event == "start_reassessment" and entries[-1].inputs["reason"] == reason
    # the new cycle runs the whole procedure again
    case = fire(case, "open_public_comment", comment_start="2025-04-01", comment_end="2025-04-30")
    case = fire(case, "close_public_comment", comment_count=0)
    assert case.state == "subcommittee_review"


def test_reassessment_for_a_changed_threshold_needs_a_changed_level(make_case, fire, db):
    case = make_case("published", "basic_assessment")
    before = snapshot(db, case.id)
    with pytest.raises(InvalidInput) as refused:
        fire(case, "start_reassessment", reason="threshold_changed")
    assert refused.value.problems[0].rule == "threshold_result_changed"
    with pytest.raises(InvalidInput):
        fire(case, "start_reassessment", reason="threshold_changed", target_count=6_000)
    assert snapshot(db, case.id) == before


def test_a_grown_file_moves_to_the_fuller_procedure(make_case, fire, db):
    case = make_case("published", "basic_assessment")
    case = fire(case, "start_reassessment", reason="threshold_changed", target_count=350_000)
    assert (case.level, case.procedure, case.state, case.cycle) == ("full", "full_assessment", "drafted", 2)
    assert case.target_count == 350_000
    outcomes = service.history(db, case.id, SYSTEM)[-1].inputs["outcomes"]
    assert outcomes["previous_procedure"] == "basic_assessment" and outcomes["procedure"] == "full_assessment"
    assert fire(case, "start_pre_check").state == "subcommittee_review"


def test_a_serious_incident_raises_the_level(make_case, fire):
    case = make_case("published", "basic_assessment", target_count=50_000)
    case = fire(case, "start_reassessment", reason="threshold_changed", serious_incident=True)
    assert (case.level, case.procedure) == ("focused", "focused_assessment")


def test_a_file_that_no_longer_needs_an_assessment_is_not_reassessed(make_case, fire):
    with pytest.raises(InvalidInput) as refused:
        fire(make_case("published", "basic_assessment"), "start_reassessment", reason="threshold_changed",
             target_count=500)
    assert refused.value.problems[0].rule == "assessment_required"


def test_withdrawal_needs_a_reason_and_ends_the_case(make_case, fire, workflows):
    case = make_case("subcommittee_review")
    with pytest.raises(InvalidInput):
        fire(case, "withdraw")
    case = fire(case, "withdraw", reason="事務の廃止")
    assert case.state == "withdrawn" and case.withdrawn_reason == "事務の廃止"
    assert workflows.procedure(case.procedure).events_from("withdrawn") == ()


# --- optimistic concurrency ---------------------------------------------------------------------

def test_a_stale_version_is_refused_and_changes_nothing(make_case, fire, db):
    case = make_case("drafted")
    fire(case, "start_pre_check")
    before = snapshot(db, case.id)
    with pytest.raises(StaleVersion) as refused:
        fire(case, "withdraw", version=1, reason="x")
    assert refused.value.current_version == 2
    assert snapshot(db, case.id) == before


def test_creation_refuses_a_file_that_needs_no_assessment(db, workflows, clock):
    with pytest.raises(InvalidInput) as refused:
        service.create_assessment(db, workflows, clock, service.NewAssessment(
            title="小規模", office="市民課", target_count=999, handler_count=1, serious_incident=False), SYSTEM)
    assert (refused.value.problems[0].field, refused.value.problems[0].rule) == ("target_count", "assessment_required")
    assert service.list_assessments(db, service.AssessmentFilter(), 10, 0, SYSTEM).total == 0


def test_a_voluntary_assessment_of_a_small_file(db, workflows, clock):
    case = service.create_assessment(db, workflows, clock, service.NewAssessment(
        title="小規模", office="市民課", target_count=999, handler_count=1, serious_incident=False,
        voluntary_level="basic"), SYSTEM)
    assert (case.level, case.procedure, case.state, case.version) == ("basic", "basic_assessment", "drafted", 1)
