"""The findings ledger (委員からの質問事項): who raises, the status moves as data (every status × move,
the illegal ones too), the 質問事項 material of the next meeting, and the API's answers to odd input."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta

import pytest
from conftest import OTHER_BODY, REVIEWING_BODY, SYSTEM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from workflow import accounts, audit, findings
from workflow.accounts import body_by_name
from workflow.clock import TOKYO
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.findings import FindingAnswer, FindingCarry, FindingClose, FindingReopen, FindingStatus, NewFinding
from workflow.lifecycle import FINDING
from workflow.models import UserAccount
from workflow.policy import Forbidden
from workflow.records import Meeting

# --- fixtures shared with the other record modules (imported there) -------------------------------

@pytest.fixture(autouse=True)
def clean_records(db):
    """conftest empties its own tables; the record rows that point at meetings go first (SQLite checks)."""
    yield
    with db.writing() as session:
        for table in ("public_comment", "finding", "report_version", "meeting"):
            session.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def make_meeting(db, clock):
    """make_meeting(case, number, when, venue=…, status=…, body=…) → a Meeting row (meetings are another
    module's work: the row is written directly)."""

    def make(case, number: int, when: datetime, *, venue: str = "特9会議室", status: str = "held",
             body: str | None = None, term: str = "第16期") -> Meeting:
        with db.writing() as session:
            body_id = body_by_name(session, body).id if body else case.body_id
            meeting = Meeting(body_id=body_id, term=term, number=number, starts_at=when, venue=venue,
                              status=status, created_at=clock.now(), updated_at=clock.now())
            session.add(meeting)
            session.flush()
            return meeting

    return make


@pytest.fixture
def user_actor(db, clock):
    """user_actor("佐々木委員", roles={"member"}, bodies={REVIEWING_BODY: "member"}) → the Actor of a new user."""
    numbers = itertools.count(1)

    def make(name: str, **account):
        user = accounts.add_user(db, clock, accounts.NewUser(email=f"user{next(numbers)}@example.jp",
                                                             display_name=name, **account), SYSTEM)
        with db.reading() as session:
            return accounts.actor_for(session, session.get(UserAccount, user.id))

    return make


@pytest.fixture
def office(user_actor):
    """The office of the test cases (conftest's FULL: 市民課)."""
    return user_actor("市民課 担当", roles={"office"}, office="市民課")


@pytest.fixture
def member(user_actor):
    return user_actor("櫻井委員", roles={"member"}, bodies={REVIEWING_BODY: "member"})


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=TOKYO)


def new(**fields) -> NewFinding:
    return NewFinding(**{"raised_by": "櫻井委員", "raised_on": date(2025, 5, 20), "text": "質問", **fields})


@pytest.fixture
def review(make_case):
    return make_case("subcommittee_review", body=REVIEWING_BODY)


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
    with db.writing() as session:
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


def test_the_table_of_moves():
    table = {name: (sorted(move.sources), move.target) for name, move in FINDING.events.items()}
    assert table == {
        "answer": (["carried", "open"], "answered"),
        "carry": (["answered", "carried", "open"], "carried"),
        "close": (["answered", "carried", "open"], "closed"),
        "reopen": (["answered", "closed"], "open"),
    }


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
    ({"resolved_in_version_id": 424242}, "resolved_in_version_id", "same_case"),
])
def test_bad_answers_name_the_field(db, clock, review, office, answer, field, rule):
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    with pytest.raises(InvalidInput) as refused:
        findings.answer_finding(db, clock, finding.id, FindingAnswer(answer="回答", **answer), office)
    assert [(p.field, p.rule) for p in refused.value.problems] == [(field, rule)]
    assert findings.list_findings(db, review.id, SYSTEM)[0].status == "open"


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


def test_open_findings_are_of_the_current_cycle_only(db, clock, review):
    old = findings.raise_finding(db, clock, review.id, new(text="前回の評価での質問"), SYSTEM)
    with db.writing() as session:  # a re-assessment (再実施) starts cycle 2; the old record stays
        session.execute(text("UPDATE assessment SET cycle = 2, version = version + 1 WHERE id = :id"),
                        {"id": review.id})
    fresh = findings.raise_finding(db, clock, review.id, new(text="今回の質問"), SYSTEM)
    assert (old.cycle, fresh.cycle) == (1, 2)
    assert [f.id for f in findings.open_findings(db, review.id, SYSTEM)] == [fresh.id]
    assert [f.id for f in findings.list_findings(db, review.id, SYSTEM, cycle=1)] == [old.id]


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


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


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


def test_every_change_is_audited_and_the_chain_holds(db, clock, review, office):
    finding = findings.raise_finding(db, clock, review.id, new(), SYSTEM)
    clock.advance(days=1)
    findings.answer_finding(db, clock, finding.id, FindingAnswer(answer="回答"), office)
    entries = [e for e in audit.entries(db, SYSTEM) if e.object_type == "finding"]
    assert [(e.action, e.actor) for e in entries] == [("finding.raised", "事務局 テスト"),
                                                      ("finding.answered", office.email)]
    assert entries[1].detail["answered_on"] == (date(2025, 6, 2) + timedelta(days=1)).isoformat()
    assert audit.verify(db, SYSTEM).ok
