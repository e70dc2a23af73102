"""Public comment intake and the disposition table over HTTP: Chiba's public comment with no comments
(seed 002), a comment outside the period, a recorded count that disagrees with the comments recorded,
responses with a change or a reason, and the API's answers to odd input
(tests/integration/test_public_comments.py: in the service)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.people import SYSTEM
from tests.helpers.public_comments import add_change as _change
from tests.helpers.public_comments import comment
from tests.helpers.records import json_values
from workflow import public_comments
from workflow.public_comments import CommentResponse

pytestmark = pytest.mark.usefixtures("clean_records")

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


# --- responses and the disposition table --------------------------------------------------------

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
