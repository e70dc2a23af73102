"""The findings ledger (委員からの質問事項) in the service: who raises, the status moves as data (every
status × move, the illegal ones too), the open findings of the current cycle, the audit trail
(tests/api/test_findings.py: over HTTP)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tests.helpers.people import OTHER_BODY, REVIEWING_BODY, SYSTEM
from tests.helpers.records import at, new
from workflow import audit, findings
from workflow.accounts import body_by_name
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.findings import FindingAnswer, FindingCarry, FindingClose, FindingReopen, FindingStatus
from workflow.lifecycle import FINDING
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Forbidden

pytestmark = pytest.mark.usefixtures("clean_records")

# --- raising ------------------------------------------------------------------------------------

def test_the_secretariat_records_a_finding_raised_at_a_meeting(db, clock, review, make_meeting):
    meeting = make_meeting(review, 1, at("2025-05-20"))
    finding = findings.raise_finding(db, clock, review.id, new(
        meeting_id=meeting.id, kind="request", section="Ⅲ リスク対策 / 評価書 p.36",
        text="流出が発生した場合の対策が必要である。"), SYSTEM)
    assert (finding.raised_by, finding.raised_by_user_id, finding.meeting_id) == ("櫻井委員", None, meeting.id)
    assert (finding.status, finding.cycle, finding.kind, finding.section) == ("open", 1, "request",
                                                                               "Ⅲ リスク対策 / 評価書 p.36")
    entry = audit.entries(db, SYSTEM)[-1]
    assert (entry.action, entry.object_id, entry.detail["raised_by"]) == ("finding.raised", str(finding.id),
                                                                          "櫻井委員")


def test_dates_default_to_the_meetings_day(db, clock, review, make_meeting, office):
    raised_at = make_meeting(review, 1, at("2025-05-20", 18))  # 18:00 in Tokyo is 09:00 UTC
    answered_at = make_meeting(review, 2, at("2025-05-30", 8))  # 08:00 in Tokyo is still 5/29 in UTC
    finding = findings.raise_finding(db, clock, review.id, new(raised_on=None, meeting_id=raised_at.id), SYSTEM)
    assert finding.raised_on == date(2025, 5, 20)
    answered = findings.answer_finding(db, clock, finding.id, FindingAnswer(
        answer="回答", answered_at_meeting_id=answered_at.id), office)
    assert answered.answered_on == date(2025, 5, 30)
    written = findings.raise_finding(db, clock, review.id, new(raised_on=None), SYSTEM)
    assert written.raised_on == date(2025, 6, 2)


def test_the_secretariat_must_name_the_member(db, clock, review):
    with pytest.raises(InvalidInput) as refused:
        findings.raise_finding(db, clock, review.id, new(raised_by=None), SYSTEM)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("raised_by", "required")]


def test_a_member_raises_in_writing_in_their_own_name(db, clock, review, user_actor):
    member = user_actor("佐々木委員", roles={"member"}, bodies={REVIEWING_BODY: "member"})
    finding = findings.raise_finding(db, clock, review.id, new(raised_by=None, raised_on=None), member)
    assert (finding.raised_by, finding.raised_on, finding.meeting_id) == ("佐々木委員", date(2025, 6, 2), None)
    assert finding.raised_by_user_id == member.user_id
    same = findings.raise_finding(db, clock, review.id, new(raised_by="佐々木委員"), member)
    assert same.raised_by == "佐々木委員"


@pytest.mark.parametrize(("fields", "field", "rule"), [
    ({"raised_by": "小林部会長"}, "raised_by", "own_name"),
    ({"raised_by": None, "meeting_id": 1}, "meeting_id", "in_writing"),
])
def test_a_member_cannot_speak_for_others_or_for_the_meeting(db, clock, review, member, fields, field, rule):
    with pytest.raises(InvalidInput) as refused:
        findings.raise_finding(db, clock, review.id, new(**fields), member)
    assert [(p.field, p.rule) for p in refused.value.problems] == [(field, rule)]


def test_meetings_must_exist_belong_to_the_body_and_not_be_cancelled(db, clock, review, make_meeting):
    elsewhere = make_meeting(review, 1, at("2025-05-20"), body=OTHER_BODY)
    cancelled = make_meeting(review, 2, at("2025-05-21"), status="cancelled")
    for meeting_id, rule in ((424242, "exists"), (elsewhere.id, "reviewing_body"), (cancelled.id, "not_cancelled")):
        with pytest.raises(InvalidInput) as refused:
            findings.raise_finding(db, clock, review.id, new(meeting_id=meeting_id), SYSTEM)
        assert [(p.field, p.rule) for p in refused.value.problems] == [("meeting_id", rule)]


def test_the_plenary_of_a_subcommittee_is_a_meeting_of_the_case(db, clock, make_case, make_meeting):
    with db.writing(EVERY_ORGANISATION) as session:
        body_by_name(session, "千葉市情報公開・個人情報保護審議会 特定個人情報保護評価部会", kind="subcommittee",
                     parent="千葉市情報公開・個人情報保護審議会")
    case = make_case("subcommittee_review", body="千葉市情報公開・個人情報保護審議会 特定個人情報保護評価部会")
    plenary = make_meeting(case, 16, at("2015-08-27", 16), body="千葉市情報公開・個人情報保護審議会")
    assert findings.raise_finding(db, clock, case.id, new(meeting_id=plenary.id), SYSTEM).meeting_id == plenary.id


def test_a_finding_cannot_be_raised_in_the_future(db, clock, review):
    with pytest.raises(InvalidInput) as refused:
        findings.raise_finding(db, clock, review.id, new(raised_on=date(2025, 6, 3)), SYSTEM)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("raised_on", "not_future")]


def test_unknown_cases_and_outsiders(db, clock, review, user_actor, office):
    with pytest.raises(NotFound):
        findings.raise_finding(db, clock, 424242, new(), SYSTEM)
    outsider = user_actor("他市委員", roles={"member"}, bodies={OTHER_BODY: "member"})
    with pytest.raises(NotFound):  # a member of another body does not even see the case
        findings.raise_finding(db, clock, review.id, new(raised_by=None), outsider)
    with pytest.raises(Forbidden):  # the office sees its case but does not raise findings
        findings.raise_finding(db, clock, review.id, new(), office)


# --- the moves, as data -------------------------------------------------------------------------

def _inputs(name: str, meeting_id: int):
    return {
        "answer": FindingAnswer(answer="回答", answered_on=date(2025, 5, 30)),
        "carry": FindingCarry(carried_to_meeting_id=meeting_id),
        "close": FindingClose(),
        "reopen": FindingReopen(reason="回答が不十分"),
    }[name]


def _run(db, clock, name: str, finding_id: int, meeting_id: int, office):
    function = {"answer": findings.answer_finding, "carry": findings.carry_finding,
                "close": findings.close_finding, "reopen": findings.reopen_finding}[name]
    actor = office if name == "answer" else SYSTEM
    return function(db, clock, finding_id, _inputs(name, meeting_id), actor)


#: How to bring a fresh (open) finding to each status.
REACH = {"open": [], "answered": ["answer"], "closed": ["close"], "carried": ["carry"]}


@pytest.mark.parametrize("status", list(REACH))
@pytest.mark.parametrize("move", list(FINDING.events))
def test_every_status_and_move(db, clock, review, make_meeting, office, status, move):
    meeting = make_meeting(review, 3, at("2025-06-20"), status="scheduled")
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    for step in REACH[status]:
        _run(db, clock, step, finding.id, meeting.id, office)
    spec = FINDING.events[move]
    if FindingStatus(status) in spec.sources:
        moved = _run(db, clock, move, finding.id, meeting.id, office)
        assert moved.status == spec.target
        assert audit.entries(db, SYSTEM)[-1].detail["from"] == status
    else:
        with pytest.raises(Conflict) as refused:
            _run(db, clock, move, finding.id, meeting.id, office)
        possible = [m.name for m in FINDING.events.values() if FindingStatus(status) in m.sources]
        assert [event["name"] for event in refused.value.allowed_events] == possible
        assert refused.value.current_state == status
        assert findings.list_findings(db, review.id, SYSTEM)[0].status == status  # nothing changed


def test_an_answer_records_date_meeting_and_version(db, clock, review, make_meeting, office):
    from workflow.report_versions import NewReportVersion, add_version

    meeting = make_meeting(review, 2, at("2025-05-30"))
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    version = add_version(db, clock, review.id, NewReportVersion(submitted_on=date(2025, 5, 30)), SYSTEM).version
    answered = findings.answer_finding(db, clock, finding.id, FindingAnswer(
        answer="HTTPSを使用しております。", answered_on=date(2025, 5, 30), answered_at_meeting_id=meeting.id,
        resolved_in_version_id=version.id), office)
    assert (answered.status, answered.answer, answered.answered_on) == ("answered", "HTTPSを使用しております。",
                                                                         date(2025, 5, 30))
    assert (answered.answered_at_meeting_id, answered.resolved_in_version_id) == (meeting.id, version.id)


@pytest.mark.parametrize(("answer", "field", "rule"), [
    ({"answered_on": date(2025, 5, 19)}, "answered_on", "not_before_raised"),
    ({"answered_on": date(2025, 6, 3)}, "answered_on", "not_future"),
    ({"answered_at_meeting_id": 424242}, "answered_at_meeting_id", "exists"),
    ({"resolved_in_version_id": 424242}, "resolved_in_version_id", "exists"),
])
def test_bad_answers_name_the_field(db, clock, review, office, answer, field, rule):
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    with pytest.raises(InvalidInput) as refused:
        findings.answer_finding(db, clock, finding.id, FindingAnswer(answer="回答", **answer), office)
    assert [(p.field, p.rule) for p in refused.value.problems] == [(field, rule)]
    assert findings.list_findings(db, review.id, SYSTEM)[0].status == "open"


def test_a_reopened_finding_is_no_longer_resolved_in_its_version(db, clock, review, office):
    from workflow.report_versions import NewReportVersion, add_version

    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    version = add_version(db, clock, review.id, NewReportVersion(submitted_on=date(2025, 5, 30)), SYSTEM).version
    findings.answer_finding(db, clock, finding.id, FindingAnswer(answer="修正しました。",
                                                                 resolved_in_version_id=version.id), office)
    findings.close_finding(db, clock, finding.id, FindingClose(note="了承"), SYSTEM)
    reopened = findings.reopen_finding(db, clock, finding.id, FindingReopen(reason="修正が不十分"), SYSTEM)
    assert (reopened.status, reopened.answer, reopened.resolved_in_version_id) == ("open", "修正しました。", None)
    assert findings.list_findings(db, review.id, SYSTEM)[0].resolved_in_version_id is None
    (entry,) = [e for e in audit.entries(db, SYSTEM) if e.action == "finding.reopened"]
    assert entry.detail["was_resolved_in_version_id"] == version.id


def test_a_version_of_another_case_is_refused(db, clock, review, make_case):
    from workflow.report_versions import NewReportVersion, add_version

    other = make_case("subcommittee_review", body=REVIEWING_BODY)
    version = add_version(db, clock, other.id, NewReportVersion(submitted_on=date(2025, 5, 30)), SYSTEM).version
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    with pytest.raises(InvalidInput) as refused:
        findings.close_finding(db, clock, finding.id, FindingClose(resolved_in_version_id=version.id), SYSTEM)
    assert refused.value.problems[0].rule == "same_case"


def test_who_moves_what(db, clock, review, member, office, user_actor):
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    with pytest.raises(Forbidden):
        findings.answer_finding(db, clock, finding.id, FindingAnswer(answer="回答"), member)
    with pytest.raises(Forbidden):
        findings.close_finding(db, clock, finding.id, FindingClose(), office)
    other_office = user_actor("市民税課 担当", roles={"office"}, office="市民税課")
    with pytest.raises(NotFound):
        findings.answer_finding(db, clock, finding.id, FindingAnswer(answer="回答"), other_office)
    with pytest.raises(NotFound):
        findings.close_finding(db, clock, 424242, FindingClose(), SYSTEM)


def test_reopen_keeps_the_earlier_answer_until_a_new_one(db, clock, review, office):
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    findings.answer_finding(db, clock, finding.id, FindingAnswer(answer="第一の回答"), office)
    findings.close_finding(db, clock, finding.id, FindingClose(note="了承"), SYSTEM)
    reopened = findings.reopen_finding(db, clock, finding.id, FindingReopen(reason="確認する"), SYSTEM)
    assert (reopened.status, reopened.answer) == ("open", "第一の回答")
    again = findings.answer_finding(db, clock, finding.id, FindingAnswer(answer="第二の回答"), office)
    assert (again.status, again.answer) == ("answered", "第二の回答")
    actions = [e.action for e in audit.entries(db, SYSTEM) if e.object_type == "finding"]
    assert actions == ["finding.raised", "finding.answered", "finding.closed", "finding.reopened",
                       "finding.answered"]
    assert audit.verify(db, SYSTEM).ok


# --- 質問事項: the open findings of the current cycle ----------------------------------------------

def test_open_findings_are_of_the_current_cycle_only(db, clock, review):
    old = findings.raise_finding(db, clock, review.id, new(text="前回の評価での質問"), SYSTEM)
    with db.writing(EVERY_ORGANISATION) as session:  # a re-assessment (再実施) starts cycle 2; the old record stays
        session.execute(text("UPDATE assessment SET cycle = 2, version = version + 1 WHERE id = :id"),
                        {"id": review.id})
    fresh = findings.raise_finding(db, clock, review.id, new(text="今回の質問"), SYSTEM)
    assert (old.cycle, fresh.cycle) == (1, 2)
    assert [f.id for f in findings.open_findings(db, review.id, SYSTEM)] == [fresh.id]
    assert [f.id for f in findings.list_findings(db, review.id, SYSTEM, cycle=1)] == [old.id]


# --- the audit trail ----------------------------------------------------------------------------

def test_every_change_is_audited_and_the_chain_holds(db, clock, review, office):
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    clock.advance(days=1)
    findings.answer_finding(db, clock, finding.id, FindingAnswer(answer="回答"), office)
    entries = [e for e in audit.entries(db, SYSTEM) if e.object_type == "finding"]
    assert [(e.action, e.actor) for e in entries] == [("finding.raised", "事務局 テスト"),
                                                      ("finding.answered", office.email)]
    assert entries[1].detail["answered_on"] == (date(2025, 6, 2) + timedelta(days=1)).isoformat()
    assert audit.verify(db, SYSTEM).ok
