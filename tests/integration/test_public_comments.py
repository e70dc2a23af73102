"""Public comment intake and the disposition table in the service: comments outside Chiba's period
(seed 002), anonymised submitters, responses with a change or a reason, a second public comment in the
cycle (tests/api/test_public_comments.py: over HTTP)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from tests.helpers.public_comments import add_change as _change
from tests.helpers.public_comments import comment
from workflow import audit, public_comments
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.policy import Forbidden
from workflow.public_comments import CommentResponse, looks_personal

pytestmark = pytest.mark.usefixtures("clean_records")

# --- Chiba: outside the period -------------------------------------------------------------------

@pytest.mark.parametrize("received_on", [date(2015, 6, 21), date(2015, 7, 22), date(2025, 4, 10)])
def test_a_comment_outside_the_period_is_422_naming_received_on(db, clock, chiba, received_on):
    with pytest.raises(InvalidInput) as refused:
        public_comments.record_comment(db, clock, chiba.id, comment(received_on=received_on), SYSTEM)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("received_on", "within_period")]
    assert "平成27年6月22日" in refused.value.problems[0].message.ja
    assert public_comments.comments_of(db, chiba.id, SYSTEM) == []


# --- intake -------------------------------------------------------------------------------------

def test_a_comment_is_recorded_with_its_cycle_and_audited_without_the_submitter(db, clock, commenting):
    recorded = public_comments.record_comment(db, clock, commenting.id, comment(channel="fax"), SYSTEM)
    assert (recorded.cycle, recorded.channel, recorded.submitter, recorded.response) == (1, "fax", "市民A", None)
    entry = audit.entries(db, SYSTEM)[-1]
    assert (entry.action, entry.object_id) == ("public_comment.recorded", str(recorded.id))
    assert "市民A" not in json.dumps(entry.detail, ensure_ascii=False)


@pytest.mark.parametrize("label", [
    "taro@example.jp", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro [at] example.jp", "090-1234-5678",
    "０９０ー１２３４ー５６７８", "043(245)5111", "+81 43 245 5111", "市民A 0432455111",
])
def test_submitters_that_look_like_contact_details_are_refused(db, clock, commenting, label):
    assert looks_personal(label)
    with pytest.raises(InvalidInput) as refused:
        public_comments.record_comment(db, clock, commenting.id, comment(submitter=label), SYSTEM)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("submitter", "anonymised")]


def test_both_problems_are_named_together(db, clock, commenting):
    with pytest.raises(InvalidInput) as refused:
        public_comments.record_comment(db, clock, commenting.id,
                                       comment(received_on=date(2025, 5, 1), submitter="a@b.jp"), SYSTEM)
    assert {(p.field, p.rule) for p in refused.value.problems} == {("received_on", "within_period"),
                                                                   ("submitter", "anonymised")}


def test_a_case_without_a_period_is_409(db, clock, make_case):
    drafted = make_case("drafted", body=REVIEWING_BODY)
    with pytest.raises(Conflict):
        public_comments.record_comment(db, clock, drafted.id, comment(), SYSTEM)
    table = public_comments.disposition(db, drafted.id, SYSTEM)
    assert (table.period, table.count, table.closed, table.consistent) == (None, 0, False, True)
    assert table.warnings[0].en == "No public comment period is recorded for this cycle."


def test_a_comment_cannot_be_received_in_the_future(db, clock, make_case, fire):
    case = fire(make_case("drafted", body=REVIEWING_BODY), "open_public_comment", comment_start="2025-05-20",
                comment_end="2025-06-30")
    with pytest.raises(InvalidInput) as refused:
        public_comments.record_comment(db, clock, case.id, comment(received_on=date(2025, 6, 10)), SYSTEM)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("received_on", "not_future")]
    assert public_comments.record_comment(db, clock, case.id, comment(received_on=date(2025, 6, 2)), SYSTEM).id


def test_only_the_secretariat_records_comments(db, clock, commenting, member, office):
    for actor in (member, office):
        with pytest.raises(Forbidden):
            public_comments.record_comment(db, clock, commenting.id, comment(), actor)


# --- responses and the disposition table --------------------------------------------------------


def test_a_new_response_replaces_the_earlier_one(db, clock, commenting):
    recorded = public_comments.record_comment(db, clock, commenting.id, comment(), SYSTEM)
    change_id = _change(db, clock, commenting)
    public_comments.respond(db, clock, recorded.id, CommentResponse(response="追記します。", change_id=change_id), SYSTEM)
    again = public_comments.respond(db, clock, recorded.id, CommentResponse(response="修正しません。",
                                                                            no_change_reason="記載済み"), SYSTEM)
    assert (again.response, again.change_id, again.no_change_reason) == ("修正しません。", None, "記載済み")


@pytest.mark.parametrize(("fields", "field", "rule"), [
    ({"change_id": 1, "no_change_reason": "記載済み"}, "no_change_reason", "change_or_reason"),
    ({}, "no_change_reason", "change_or_reason"),
    ({"change_id": "other case"}, "change_id", "same_case"),
    ({"change_id": 424242}, "change_id", "exists"),
])
def test_a_response_needs_a_change_of_the_case_or_a_reason(db, clock, commenting, make_case, fields, field, rule):
    recorded = public_comments.record_comment(db, clock, commenting.id, comment(), SYSTEM)
    if fields.get("change_id") == "other case":
        fields = {"change_id": _change(db, clock, make_case("subcommittee_review", body=REVIEWING_BODY))}
    with pytest.raises(InvalidInput) as refused:
        public_comments.respond(db, clock, recorded.id, CommentResponse(response="考え方", **fields), SYSTEM)
    assert [(p.field, p.rule) for p in refused.value.problems] == [(field, rule)]
    assert public_comments.comments_of(db, commenting.id, SYSTEM)[0].response is None


def test_who_responds(db, clock, commenting, member, user_actor):
    recorded = public_comments.record_comment(db, clock, commenting.id, comment(), SYSTEM)
    answer = CommentResponse(response="考え方", no_change_reason="記載済み")
    with pytest.raises(Forbidden):
        public_comments.respond(db, clock, recorded.id, answer, member)
    other_office = user_actor("市民税課 担当", roles={"office"}, office="市民税課")
    with pytest.raises(Forbidden):  # the case is public while its comment runs, but not theirs to answer
        public_comments.respond(db, clock, recorded.id, answer, other_office)
    with pytest.raises(NotFound):
        public_comments.respond(db, clock, 424242, answer, SYSTEM)


def test_a_second_public_comment_in_the_cycle_keeps_the_table_to_its_period(db, clock, commenting, fire):
    public_comments.record_comment(db, clock, commenting.id, comment(received_on=date(2025, 4, 10)), SYSTEM)
    case = fire(commenting, "close_public_comment", comment_count=1)
    case = fire(case, "request_revision")
    case = fire(case, "open_public_comment", comment_start="2025-05-01", comment_end="2025-05-31")
    public_comments.record_comment(db, clock, case.id, comment(received_on=date(2025, 5, 15), submitter="市民C"),
                                   SYSTEM)
    fire(case, "close_public_comment", comment_count=1)
    table = public_comments.disposition(db, case.id, SYSTEM)
    assert [row.comment.submitter for row in table.rows] == ["市民C"]
    assert (table.count, table.consistent) == (1, True)
    assert any("期間外" in warning.ja for warning in table.warnings)
    assert len(public_comments.comments_of(db, case.id, SYSTEM)) == 2

