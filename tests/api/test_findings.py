"""The findings ledger (委員からの質問事項) over HTTP: the 質問事項 material of the next meeting, a finding
walked through its moves, a member raising in their own name, and the API's answers to odd input
(tests/integration/test_findings.py: in the service)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from tests.helpers.records import at, json_values, new
from workflow import findings
from workflow.findings import FindingAnswer, FindingClose, NewFinding

pytestmark = pytest.mark.usefixtures("clean_records")

# --- 質問事項: the open findings of the current cycle ----------------------------------------------

#: Chiba's 資料3 部会委員からの質問事項 (seed 002): the questions of the 3rd meeting and of 藤谷委員's lecture.
CHIBA_QUESTIONS = [
    ("2015-06-22", "多賀谷部会長", "広域連合の標準システムのセキュリティについて",
     "ある市町村においてセキュリティレベルに問題があった場合、広域連合、そしてその市町村を通じて、"
     "県内の全部の後期高齢者のデータを第三者から抜き取られてしまうリスクについて確認すること。"),
    ("2015-06-22", "多賀谷部会長", "千葉市の福祉総合情報システムのセキュリティについて",
     "他の市町村や広域連合の職員が、標準システム窓口端末を経由して、福祉総合情報システムに自由に入ってくるリスクはないのか。"),
    ("2015-06-22", "稲垣委員", "通信における認証・暗号化について",
     "「窓口端末と広域連合の標準システムの通信には、認証・通信内容の暗号化を実施している」と記載されているが、"
     "暗号化について確認されたい。"),
    ("2015-07-10", "藤谷委員", "広域連合の再委託について", "広域連合の再委託は実際に行われているのか。"),
]


def test_open_findings_are_the_next_meetings_questions(db, clock, make_case, client, user_actor):
    case = make_case("subcommittee_review", body=REVIEWING_BODY, title="(旧)福祉システム（後期高齢者医療事務）",
                     office="健康保険課")
    raised = [findings.raise_finding(db, clock, case.id, NewFinding(
        raised_by=who, raised_on=date.fromisoformat(day), section=section, text=question), SYSTEM)
        for day, who, section, question in CHIBA_QUESTIONS[3:] + CHIBA_QUESTIONS[:3]]  # the later one entered first
    office = user_actor("健康保険課 大木", roles={"office"}, office="健康保険課")
    encryption = next(f for f in raised if f.section == "通信における認証・暗号化について")
    findings.answer_finding(db, clock, encryption.id, FindingAnswer(
        answer="暗号化のプロトコルといたしましては、HTTPSを使用しております。", answered_on=date(2015, 8, 6)), office)
    outsourcing = next(f for f in raised if f.section == "広域連合の再委託について")
    findings.answer_finding(db, clock, outsourcing.id, FindingAnswer(answer="再委託は行われております。",
                                                                       answered_on=date(2015, 8, 6)), office)
    findings.close_finding(db, clock, outsourcing.id, FindingClose(), SYSTEM)

    material = client.get(f"/api/assessments/{case.id}/findings/open")
    assert material.status_code == 200, material.text
    rows = material.json()
    assert [(row["no"], row["raised_by"], row["section"], row["status"]) for row in rows] == [
        (1, "多賀谷部会長", "広域連合の標準システムのセキュリティについて", "open"),
        (2, "多賀谷部会長", "千葉市の福祉総合情報システムのセキュリティについて", "open"),
        (3, "稲垣委員", "通信における認証・暗号化について", "answered"),
    ]
    assert rows[2]["answer"] == "暗号化のプロトコルといたしましては、HTTPSを使用しております。"
    assert [move["name"] for move in rows[2]["moves"]] == ["carry", "close", "reopen"]
    assert rows[0]["status_title"] == {"ja": "未回答", "en": "Open"}

    listed = client.get(f"/api/assessments/{case.id}/findings", params={"status": "closed"}).json()
    assert [row["section"] for row in listed] == ["広域連合の再委託について"]
    assert len(client.get(f"/api/assessments/{case.id}/findings").json()) == 4


# --- the API ------------------------------------------------------------------------------------

def test_the_api_walks_a_finding(client, person, review, make_meeting):
    meeting = make_meeting(review, 3, at("2025-06-20"), status="scheduled")
    created = client.post(f"/api/assessments/{review.id}/findings", json={
        "raised_by": "小林部会長", "raised_on": "2025-05-20", "kind": "request", "section": "資料2 再委託",
        "text": "再委託する必要性と、流出事案との違いをまとめていただきたい。"})
    assert created.status_code == 201, created.text
    finding = created.json()
    assert (finding["status"], finding["raised_by"], finding["kind"]) == ("open", "小林部会長", "request")
    assert "raised_by_user_id" not in finding
    path = f"/api/findings/{finding['id']}"
    carried = client.post(f"{path}/carry", json={"carried_to_meeting_id": meeting.id})
    assert (carried.status_code, carried.json()["carried_to_meeting_id"]) == (200, meeting.id)
    office = person("office").headers
    answered = client.post(f"{path}/answer", headers=office, json={"answer": "資料2のとおり整理しました。"})
    assert (answered.status_code, answered.json()["status"]) == (200, "answered"), answered.text
    again = client.post(f"{path}/answer", headers=office, json={"answer": "重ねて回答"})
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "conflict" and error["current_state"] == "answered"
    assert [event["name"] for event in error["allowed_events"]] == ["carry", "close", "reopen"]
    assert "「回答済」" in error["message"]["ja"]
    closed = client.post(f"{path}/close", json={})
    assert closed.json()["status"] == "closed"
    reopened = client.post(f"{path}/reopen", json={"reason": "追加の確認"})
    assert reopened.json()["status"] == "open"


def test_a_member_raises_through_the_api_in_their_own_name(public, person, review):
    member = person("member")
    response = public.post(f"/api/assessments/{review.id}/findings", headers=member.headers,
                           json={"text": "書面による質問です。", "section": "Ⅲ リスク対策 / 評価書 p.36"})
    assert response.status_code == 201, response.text
    assert response.json()["raised_by"] == "member テスト"
    refused = public.post(f"/api/assessments/{review.id}/findings", headers=member.headers,
                          json={"text": "代理", "raised_by": "櫻井委員"})
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["rule"] == "own_name"


BAD_FINDINGS = [
    ({"text": ""}, "text", "not_empty"),
    ({"text": "質問\x00"}, "text", "no_control_characters"),
    ({"text": "x" * 10_001}, "text", "max_length"),
    ({"kind": "complaint"}, "kind", "one_of"),
    ({"meeting_id": 2**63}, "meeting_id", "maximum"),
    ({"meeting_id": 0}, "meeting_id", "minimum"),
    ({"meeting_id": "first"}, "meeting_id", "integer"),
    ({"raised_on": "2023-02-30"}, "raised_on", "date"),
    ({"raised_on": "9999-12-31"}, "raised_on", "maximum"),
    ({"section": ["a"]}, "section", "text"),
    ({"raised_by": "櫻井\x07委員"}, "raised_by", "no_control_characters"),
    ({"status": "closed"}, "status", "unknown_field"),
]


@pytest.mark.parametrize(("overrides", "field", "rule"), BAD_FINDINGS)
def test_bad_findings_name_the_field_and_rule(client, review, overrides, field, rule):
    body = {"raised_by": "櫻井委員", "text": "質問", **overrides}
    response = client.post(f"/api/assessments/{review.id}/findings", json=body)
    assert response.status_code == 422, response.text
    assert (field, rule) in {(p["field"], p["rule"]) for p in response.json()["error"]["fields"]}
    assert client.get(f"/api/assessments/{review.id}/findings").json() == []


@pytest.mark.parametrize("path", ["/api/findings/0/close", "/api/findings/-1/close", "/api/findings/abc/close",
                                  "/api/findings/99999999999999999999/close", "/api/findings/424242/close"])
def test_odd_finding_ids_never_500(client, path):
    response = client.post(path, json={})
    assert response.status_code in (404, 422)
    assert set(response.json()["error"]["message"]) == {"ja", "en"}


@pytest.mark.parametrize("query", ["status=pending", "cycle=0", "cycle=99999999999999999999", "cycle=x"])
def test_odd_list_queries_are_422(client, review, query):
    response = client.get(f"/api/assessments/{review.id}/findings?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={
    "raised_by": json_values, "raised_on": st.dates().map(str) | json_values, "meeting_id": st.integers() | json_values,
    "kind": st.sampled_from(["question", "opinion", "request"]) | json_values, "section": json_values,
    "text": st.text(max_size=50) | json_values}))
def test_no_finding_body_answers_500(client, review, body):
    response = client.post(f"/api/assessments/{review.id}/findings", content=json.dumps(body, allow_nan=True),
                           headers={"content-type": "application/json"})
    assert response.status_code in (201, 422), response.text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(move=st.sampled_from(["answer", "close", "carry", "reopen"]), body=st.fixed_dictionaries({}, optional={
    "answer": st.text(max_size=30) | json_values, "answered_on": st.dates().map(str) | json_values,
    "answered_at_meeting_id": st.integers() | json_values, "resolved_in_version_id": st.integers() | json_values,
    "carried_to_meeting_id": st.integers() | json_values, "reason": json_values, "note": json_values}))
def test_no_move_body_answers_500(db, clock, client, review, move, body):
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    response = client.post(f"/api/findings/{finding.id}/{move}", content=json.dumps(body, allow_nan=True),
                           headers={"content-type": "application/json"})
    assert response.status_code in (200, 409, 422), response.text
    if response.status_code != 200:
        assert set(response.json()["error"]["message"]) == {"ja", "en"}
