"""GET /api/search: case titles, members' questions and the offices' answers, and the minutes, each found
only by a reader the policy lets read it (workflow/search.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import select

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from tests.helpers.policy import POLICY_ROLES
from workflow import findings, meetings, minutes
from workflow.clock import TOKYO
from workflow.findings import NewFinding
from workflow.meetings import HeldMeeting, NewMeeting
from workflow.minutes import Confirmation, MinutesDraft, Passage, SendForCorrections
from workflow.models import Assessment
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Action, Decision, decide, readable_records, visible_cases

#: The route templates this module's table covers (tests/api/test_policy.py reads it).
POLICY_PATHS = {"/api/search"}

WORD = "宛名番号"


@pytest.fixture
def world(make_case, db, clock, person):
    person("chair")  # the body's chair, who confirms the minutes
    review = make_case("subcommittee_review", body=REVIEWING_BODY, title=f"{WORD}の管理に関する事務")
    published = make_case("published", body=REVIEWING_BODY, title=f"{WORD}を用いる住民基本台帳の事務")
    findings.raise_finding(db, clock, review.id, NewFinding(raised_by="櫻井委員", raised_on=date(2025, 5, 20),
                                                            text=f"{WORD}の付番方法を説明してください。"), SYSTEM)
    meeting = meetings.schedule(db, clock, NewMeeting(
        body=REVIEWING_BODY, term="第8期", starts_at=datetime(2025, 5, 1, 18, tzinfo=TOKYO), venue="市政情報室",
        agenda=[meetings.AgendaItemInput(assessment_id=published.id, purpose="third_party_review", title="第三者点検")]),
        SYSTEM).meeting
    meetings.record_held(db, clock, meeting.id, HeldMeeting(expected_version=1), SYSTEM)
    minutes.draft(db, clock, meeting.id, MinutesDraft(passages=[
        Passage(speaker="部会長", text=f"{WORD}について質疑をお願いします。"),
        Passage(speaker="実施機関", text=f"{WORD}の委託先の体制（非公開）", public=False)]), SYSTEM)
    minutes.send_for_corrections(db, clock, meeting.id, SendForCorrections(deadline=date(2025, 6, 16)), SYSTEM)
    minutes.confirm(db, clock, meeting.id, Confirmation(confirmed_by="部会長"), SYSTEM)
    minutes.publish(db, clock, meeting.id, minutes.Publication(), SYSTEM)
    return review, published, meeting


#: What each reader finds: the cases' titles, the question, the minutes' closed passage.
FOUND = {
    "public": {"published"},
    "other_member": {"published"},
    "other_office": {"published"},
    "office": {"published", "review", "question"},
    "member": {"published", "review", "question", "closed passage"},
    "chair": {"published", "review", "question", "closed passage"},
    "secretariat": {"published", "review", "question", "closed passage"},
    "admin": {"published", "review", "question", "closed passage"},
}
CLOSED_PASSAGE = "委託先の体制"


@pytest.mark.parametrize("role", POLICY_ROLES)
def test_each_reader_finds_what_they_may_read(world, public, person, role):
    review, published, meeting = world
    headers = {} if role == "public" else person(role).headers
    answer = public.get("/api/search", params={"q": WORD}, headers=headers)
    assert answer.status_code == 200, answer.text
    hits = answer.json()["items"]
    found = set()
    for hit in hits:
        if hit["kind"] == "case":
            found.add({review.id: "review", published.id: "published"}[hit["case_id"]])
            assert hit["url"] == f"/api/assessments/{hit['case_id']}"
        elif hit["kind"] == "finding":
            found.add("question")
            assert hit["case_id"] == review.id and "付番方法" in hit["excerpt"]
        elif hit["kind"] == "minutes":
            assert hit["meeting_id"] == meeting.id and hit["url"] == f"/api/meetings/{meeting.id}/minutes"
    minutes_hits = [hit for hit in hits if hit["kind"] == "minutes"]
    assert len(minutes_hits) == 1, role  # the meeting is public and its minutes published: everyone
    closed = public.get("/api/search", params={"q": CLOSED_PASSAGE}, headers=headers).json()["items"]
    if closed:
        assert [hit["kind"] for hit in closed] == ["minutes"] and CLOSED_PASSAGE in closed[0]["excerpt"]
        found.add("closed passage")
    assert found == FOUND[role], role


def test_the_sql_condition_of_the_records_is_the_rule(world, db, user_actor):
    """readable_records (a listing's WHERE) admits exactly the cases decide(READ_RECORDS) allows."""
    from tests.helpers.people import ROLES
    from workflow.policy import ANONYMOUS

    actors = {"public": ANONYMOUS, **{role: user_actor(f"{role} テスト", **account) for role, account in ROLES.items()}}
    with db.reading(EVERY_ORGANISATION) as session:
        every = session.exec(select(Assessment)).all()
        for role, actor in actors.items():
            by_sql = set(session.exec(select(Assessment.id).where(visible_cases(actor), readable_records(actor))).all())
            by_rule = {case.id for case in every if decide(actor, Action.READ_RECORDS, case) is Decision.ALLOW}
            assert by_sql == by_rule, role


def test_an_answer_is_found_as_an_answer(world, db, clock, client):
    review, _published, _meeting = world
    (question,) = findings.list_findings(db, review.id, SYSTEM)
    findings.answer_finding(db, clock, question.id, findings.FindingAnswer(
        answer="住民票コードとは別に、庁内で一意の番号を付番しています。", answered_on=date(2025, 5, 30)), SYSTEM)
    hits = client.get("/api/search", params={"q": "一意の番号"}).json()["items"]
    assert [(hit["kind"], hit["case_id"]) for hit in hits] == [("answer", review.id)]


@pytest.mark.parametrize(("q", "rule"), [("番", "min_length"), ("  ", "not_empty"), ("　　", "not_empty"),
                                          ("x" * 101, "max_length")])
def test_a_query_too_short_or_blank_names_the_rule(client, q, rule):
    answer = client.get("/api/search", params={"q": q})
    assert answer.status_code == 422
    assert [(problem["field"], problem["rule"]) for problem in answer.json()["error"]["fields"]] == [("q", rule)]


def test_wildcards_are_text(world, client):
    assert client.get("/api/search", params={"q": "%%"}).json()["items"] == []
    assert client.get("/api/search", params={"q": "__"}).json()["items"] == []


def test_the_index_follows_every_change_of_the_text(make_case, db, client):
    """Titles and answers found as they are now: after an insert, an update and a delete (on SQLite the
    full-text tables are kept by triggers, on PostgreSQL the trigram indexes by the database)."""
    from sqlalchemy import text

    case = make_case("drafted", title="旧い名前の事務")

    def titles(q):
        return [hit["case_title"] for hit in client.get("/api/search", params={"q": q}).json()["items"]]

    assert titles("旧い名前") == ["旧い名前の事務"]
    with db.engine.begin() as connection:  # as a correction of the title would
        connection.execute(text("UPDATE assessment SET title = '新しい名前の事務' WHERE id = :id"), {"id": case.id})
    assert titles("旧い名前") == [] and titles("新しい名前") == ["新しい名前の事務"]
    assert titles("新し") == ["新しい名前の事務"]  # two characters: no trigram holds them; the rows are read
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM assessment WHERE id = :id"), {"id": case.id})
    assert titles("新しい名前") == []


def test_quotes_and_operators_of_the_index_are_text(make_case, client):
    make_case("drafted", title='「"AND" OR NOT*」の事務')
    for q in ('"AND"', "OR NOT*", 'NOT*」', '"'):
        answer = client.get("/api/search", params={"q": q})
        assert answer.status_code in (200, 422), answer.text
    hits = client.get("/api/search", params={"q": '"AND" OR'}).json()["items"]
    assert [hit["case_title"] for hit in hits] == ['「"AND" OR NOT*」の事務']
