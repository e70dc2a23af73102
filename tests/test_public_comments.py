"""Public comment intake and the disposition table: Chiba's public comment with no comments (seed 002),
comments outside the period, anonymised submitters, responses with a change or a reason, and a
recorded count that disagrees with the comments recorded."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import REVIEWING_BODY, SYSTEM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_findings import clean_records, json_values, member, office, user_actor  # noqa: F401

from workflow import audit, public_comments, report_versions
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.policy import Forbidden
from workflow.public_comments import CommentResponse, NewPublicComment, looks_personal
from workflow.report_versions import NewChange, NewReportVersion

CHIBA = {"title": "(旧)福祉システム（後期高齢者医療事務）", "office": "健康保険課"}


def comment(**fields) -> NewPublicComment:
    return NewPublicComment(**{"received_on": date(2025, 4, 10), "channel": "web", "submitter": "市民A",
                               "summary": "中間サーバーのアクセスログを市が監視できるのか。", **fields})


@pytest.fixture
def chiba(make_case, fire):
    """Chiba 2015: a pre-check (事前点検), then the public comment 6/22–7/21 on the website, closed with none."""
    case = make_case("drafted", body=REVIEWING_BODY, **CHIBA)
    case = fire(case, "start_pre_check")
    case = fire(case, "open_public_comment", comment_start="2015-06-22", comment_end="2015-07-21")
    return fire(case, "close_public_comment", comment_count=0)


@pytest.fixture
def commenting(make_case):
    """A case in its public comment (2025-04-01 to 04-30; today is 2025-06-02), reviewed by REVIEWING_BODY."""
    return make_case("public_comment", body=REVIEWING_BODY)


# --- Chiba: no comments -------------------------------------------------------------------------

def test_chiba_no_comments_received(db, chiba, client):
    table = public_comments.disposition(db, chiba.id, SYSTEM)
    assert (table.count, table.recorded, table.rows, table.consistent, table.closed) == (0, 0, [], True, True)
    assert (table.period, table.period_days) == ((date(2015, 6, 22), date(2015, 7, 21)), 30)
    assert table.warnings == []
    assert table.statement.ja == "意見聴取期間（平成27年6月22日（月）から平成27年7月21日（火）まで）に意見の提出はありませんでした。"

    response = client.get(f"/api/assessments/{chiba.id}/public-comments/disposition")
    assert response.status_code == 200, response.text
    body = response.json()
    assert {key: body[key] for key in ("count", "recorded", "consistent", "closed", "rows", "warnings")} == {
        "count": 0, "recorded": 0, "consistent": True, "closed": True, "rows": [], "warnings": []}
    assert body["period"] == {"start": "2015-06-22", "end": "2015-07-21", "days": 30, "shortened_reason": None}
    assert body["statement"]["en"] == ("No comments were received during the public comment "
                                       "(Mon 22 Jun 2015 to Tue 21 Jul 2015).")


@pytest.mark.parametrize("received_on", [date(2015, 6, 21), date(2015, 7, 22), date(2025, 4, 10)])
def test_a_comment_outside_the_period_is_422_naming_received_on(db, clock, chiba, received_on):
    with pytest.raises(InvalidInput) as refused:
        public_comments.record_comment(db, clock, chiba.id, comment(received_on=received_on), SYSTEM)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("received_on", "within_period")]
    assert "平成27年6月22日" in refused.value.problems[0].message.ja
    assert public_comments.comments_of(db, chiba.id, SYSTEM) == []


def test_the_api_refuses_a_comment_outside_the_period(client, chiba):
    response = client.post(f"/api/assessments/{chiba.id}/public-comments", json={
        "received_on": "2015-07-22", "channel": "email", "submitter": "市民A", "summary": "期間後に届いた意見"})
    assert response.status_code == 422
    assert [(p["field"], p["rule"]) for p in response.json()["error"]["fields"]] == [("received_on", "within_period")]


def test_a_mismatch_with_the_recorded_count_is_reported(db, clock, chiba, client):
    public_comments.record_comment(db, clock, chiba.id, comment(received_on=date(2015, 7, 1)), SYSTEM)
    table = public_comments.disposition(db, chiba.id, SYSTEM)
    assert (table.count, table.recorded, table.consistent, len(table.rows)) == (0, 1, False, 1)
    assert table.statement is None
    assert any("一致しません" in warning.ja for warning in table.warnings)
    body = client.get(f"/api/assessments/{chiba.id}/public-comments/disposition").json()
    assert (body["consistent"], body["count"], body["recorded"]) == (False, 0, 1)
    assert any("(1)" in warning["en"] and "(0)" in warning["en"] for warning in body["warnings"])


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


@pytest.mark.parametrize("label", ["市民A", "市民B（千葉市在住）", "事業者1", "団体2", "2015-07-01受付分"])
def test_anonymised_labels_are_accepted(label):
    assert not looks_personal(label)


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

def _change(db, clock, case) -> int:
    entry = report_versions.add_version(db, clock, case.id, NewReportVersion(
        submitted_on=date(2025, 5, 10), label="意見聴取を踏まえた修正版",
        changes=[NewChange(section="Ⅲ 7. リスク1 ⑧ 監視", before="アクセスログを取得する。",
                           after="アクセスログを取得し、定期的に監視する。", reason="市民意見を踏まえて")]), SYSTEM)
    return entry.changes[0].id


def test_responses_with_a_change_or_a_reason_fill_the_table(db, clock, commenting, fire, office, client):
    first = public_comments.record_comment(db, clock, commenting.id, comment(received_on=date(2025, 4, 20)), SYSTEM)
    second = public_comments.record_comment(db, clock, commenting.id, comment(
        received_on=date(2025, 4, 5), channel="post", submitter="市民B", summary="再委託は認めるべきでない。"), SYSTEM)
    before_closing = public_comments.disposition(db, commenting.id, SYSTEM)
    assert (before_closing.closed, before_closing.count, before_closing.consistent, before_closing.pending) == (
        False, 2, True, 2)
    assert before_closing.statement is None

    change_id = _change(db, clock, commenting)
    public_comments.respond(db, clock, first.id, CommentResponse(
        response="アクセスログを定期的に監視する旨を評価書に追記します。", change_id=change_id), office)
    public_comments.respond(db, clock, second.id, CommentResponse(
        response="再委託は書面による承認と履行体制図の提出を条件とし、必要性を確認します。",
        no_change_reason="評価書に既に記載があるため"), SYSTEM)
    fire(commenting, "close_public_comment", comment_count=2)

    body = client.get(f"/api/assessments/{commenting.id}/public-comments/disposition").json()
    assert (body["count"], body["recorded"], body["consistent"], body["pending"], body["warnings"]) == (
        2, 2, True, 0, [])
    assert body["statement"]["ja"].endswith("に2件の意見が提出されました。")
    rows = body["rows"]
    assert [(row["no"], row["submitter"], row["received_on"]) for row in rows] == [
        (1, "市民B", "2025-04-05"), (2, "市民A", "2025-04-20")]
    assert (rows[0]["change"], rows[0]["no_change_reason"]) == (None, "評価書に既に記載があるため")
    assert rows[1]["change"] == {"id": change_id, "version_number": 1, "section": "Ⅲ 7. リスク1 ⑧ 監視",
                                 "before": "アクセスログを取得する。", "after": "アクセスログを取得し、定期的に監視する。"}
    assert rows[1]["no_change_reason"] is None


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
    ({"change_id": 424242}, "change_id", "same_case"),
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


# --- the API ------------------------------------------------------------------------------------

def test_the_api_records_lists_and_responds(client, person, commenting):
    created = client.post(f"/api/assessments/{commenting.id}/public-comments", json={
        "received_on": "2025-04-10", "channel": "counter", "submitter": "市民A", "summary": "意見の概要"})
    assert created.status_code == 201, created.text
    comment_id = created.json()["id"]
    listed = client.get(f"/api/assessments/{commenting.id}/public-comments").json()
    assert [(c["id"], c["channel"], c["response"]) for c in listed] == [(comment_id, "counter", None)]
    patched = client.patch(f"/api/public-comments/{comment_id}", headers=person("office").headers,
                           json={"response": "実施機関の考え方", "no_change_reason": "評価書に記載済みのため"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["response"], patched.json()["no_change_reason"]) == ("実施機関の考え方", "評価書に記載済みのため")


BAD_COMMENTS = [
    ({"channel": "carrier pigeon"}, "channel", "one_of"),
    ({"summary": "意見\x00"}, "summary", "no_control_characters"),
    ({"summary": ""}, "summary", "not_empty"),
    ({"submitter": "x" * 101}, "submitter", "max_length"),
    ({"submitter": "taro@example.jp"}, "submitter", "anonymised"),
    ({"received_on": "2025-02-30"}, "received_on", "date"),
    ({"received_on": 20250410}, "received_on", "date"),
    ({"received_on": "0001-01-01"}, "received_on", "minimum"),
    ({"response": "先に回答"}, "response", "unknown_field"),
]


@pytest.mark.parametrize(("overrides", "field", "rule"), BAD_COMMENTS)
def test_bad_comment_bodies_name_the_field(client, commenting, overrides, field, rule):
    body = {"received_on": "2025-04-10", "channel": "web", "submitter": "市民A", "summary": "意見", **overrides}
    response = client.post(f"/api/assessments/{commenting.id}/public-comments", json=body)
    assert response.status_code == 422, response.text
    assert (field, rule) in {(p["field"], p["rule"]) for p in response.json()["error"]["fields"]}
    assert client.get(f"/api/assessments/{commenting.id}/public-comments").json() == []


@pytest.mark.parametrize("path", ["/api/public-comments/0", "/api/public-comments/abc",
                                  "/api/public-comments/99999999999999999999", "/api/public-comments/424242"])
def test_odd_comment_ids_never_500(client, path):
    response = client.patch(path, json={"response": "考え方", "no_change_reason": "理由"})
    assert response.status_code in (404, 422)
    assert set(response.json()["error"]["message"]) == {"ja", "en"}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={
    "received_on": st.dates().map(str) | json_values, "channel": st.sampled_from(["web", "fax"]) | json_values,
    "submitter": st.text(max_size=30) | json_values, "summary": st.text(max_size=30) | json_values}))
def test_no_comment_body_answers_500(client, commenting, body):
    response = client.post(f"/api/assessments/{commenting.id}/public-comments",
                           content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"})
    assert response.status_code in (201, 422), response.text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={
    "response": st.text(max_size=30) | json_values, "change_id": st.integers() | json_values,
    "no_change_reason": st.text(max_size=30) | json_values}))
def test_no_response_body_answers_500(db, clock, client, commenting, body):
    recorded = public_comments.record_comment(db, clock, commenting.id, comment(), SYSTEM)
    response = client.patch(f"/api/public-comments/{recorded.id}", content=json.dumps(body, allow_nan=True),
                            headers={"content-type": "application/json"})
    assert response.status_code in (200, 422), response.text
