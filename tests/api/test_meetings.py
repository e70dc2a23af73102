"""Meetings over HTTP: the Fukuoka second subcommittee's 第16期第2回 (seed 000) scheduled, held with a
quorum and its next meeting fixed at the end; numbers taken; moving, cancelling and stale versions;
materials (資料1 …); visibility of closed meetings; and the API's answers to odd input (never a 500)
(tests/integration/test_meetings.py: in the service)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.meetings import FUKUOKA, FUKUOKA_MEMBERS, TOPIC, VENUE, attach, error, rules, schedule, tokyo
from tests.helpers.people import OTHER_BODY, REVIEWING_BODY, SYSTEM
from workflow import audit, meetings
from workflow.meetings import Cancellation
from workflow.policy import Classification

# --- the Fukuoka meeting ------------------------------------------------------------------------

def test_fukuoka_second_meeting_is_held_with_a_quorum_and_fixes_the_next(client, db, clock, files, fukuoka):
    clock.set(tokyo(2023, 10, 2, 9))
    first = client.post("/api/meetings", json={
        "body": FUKUOKA, "term": "第16期", "number": 1, "starts_at": "2023-10-19T10:00:00+09:00", "venue": VENUE,
        "agenda": [{"assessment_id": fukuoka.case.id, "purpose": "third_party_review", "title": TOPIC}]})
    assert first.status_code == 201, first.text

    # 第2回: the number follows from the body and term; the agenda carries the same case.
    response = client.post("/api/meetings", json={
        "body_id": fukuoka.body.id, "term": "第16期", "starts_at": "2023-11-16T10:00:00+09:00",
        "ends_at": "2023-11-16T11:30:00+09:00", "venue": VENUE, "is_public": True,
        "agenda": [{"assessment_id": fukuoka.case.id, "purpose": "third_party_review", "title": TOPIC}]})
    assert response.status_code == 201, response.text
    meeting = response.json()
    assert response.headers["Location"] == f"/api/meetings/{meeting['id']}"
    assert (meeting["number"], meeting["term"], meeting["status"], meeting["sequence"]) == (2, "第16期", "scheduled", 0)
    assert meeting["title"] == f"第16期第2回 {FUKUOKA}"
    assert meeting["when_ja"] == "令和5年11月16日（木）午前10時から午前11時30分まで"
    assert meeting["starts_at"] == "2023-11-16T10:00:00+09:00"
    assert meeting["agenda"] == [{"id": meeting["agenda"][0]["id"], "position": 1, "assessment_id": fukuoka.case.id,
                                  "purpose": "third_party_review", "title": TOPIC}]

    # 資料1–3 of the case; 資料2 (the log image) is for members only.
    papers = {"資料1": attach(db, files, clock, fukuoka.case, "改正の背景とシステムの概要"),
              "資料2": attach(db, files, clock, fukuoka.case, "再委託とリスク対策", Classification.MEMBERS_ONLY),
              "資料3": attach(db, files, clock, fukuoka.case, "全項目評価書の修正内容")}
    for label, document in papers.items():
        linked = client.post(f"/api/meetings/{meeting['id']}/materials", json={"document_id": document.id,
                                                                               "label": label})
        assert linked.status_code == 200, linked.text
    assert [(m["label"], m["title"]) for m in linked.json()["materials"]] == [
        ("資料1", "改正の背景とシステムの概要"), ("資料2", "再委託とリスク対策"), ("資料3", "全項目評価書の修正内容")]

    # Held: public, no observers (傍聴者はおられない), five members present.
    clock.set(tokyo(2023, 11, 16, 11, 30))
    attendance = [{"name": name, "role": position} for name, position in FUKUOKA_MEMBERS.items()]
    attendance += [{"name": "久芳 副課長", "role": "office"}, {"name": "情報政策課 担当", "role": "secretariat"}]
    held = client.post(f"/api/meetings/{meeting['id']}/held", json={
        "expected_version": meeting["version"], "observers": 0, "attendance": attendance})
    assert held.status_code == 200, held.text
    held = held.json()
    assert (held["status"], held["observers"], held["is_public"]) == ("held", 0, True)
    assert held["quorum"] == {"required": 3, "present": 5, "met": True, "seats": 5, "basis": "majority"}
    linked_names = {row["name"] for row in held["attendance"] if row["user_id"] is not None}
    assert linked_names == set(FUKUOKA_MEMBERS)
    assert client.get(f"/api/meetings/{meeting['id']}/quorum").json() == held["quorum"]

    # At the end of the meeting: 次回は12月21日（木）午前10時から, 特9会議室 (a naive time is Tokyo time).
    following = client.post(f"/api/meetings/{meeting['id']}/next",
                            json={"starts_at": "2023-12-21T10:00:00", "venue": "特9会議室"})
    assert following.status_code == 201, following.text
    following = following.json()
    assert (following["number"], following["term"], following["body_id"]) == (3, "第16期", fukuoka.body.id)
    assert following["starts_at"] == "2023-12-21T10:00:00+09:00"
    assert following["when_ja"] == "令和5年12月21日（木）午前10時"
    assert (following["venue"], following["status"], following["is_public"]) == ("特9会議室", "scheduled", True)

    listed = client.get("/api/meetings", params={"body_id": fukuoka.body.id}).json()
    assert [(m["number"], m["status"]) for m in listed["items"]] == [(1, "scheduled"), (2, "held"), (3, "scheduled")]


def test_attendance_twice_under_one_name_is_refused(client, db, clock):
    record = schedule(db, clock)
    response = client.put(f"/api/meetings/{record.meeting.id}/attendance", json={
        "expected_version": record.meeting.version,
        "attendance": [{"name": "小林 登", "role": "chair"}, {"name": "小林　登", "role": "member"}]})
    assert rules(response) == {("attendance.1.name", "unique")}


# --- numbering ----------------------------------------------------------------------------------


def test_a_number_taken_is_409(client, db, clock):
    schedule(db, clock, number=4)
    response = client.post("/api/meetings", json={"body": REVIEWING_BODY, "term": "第16期", "number": 4,
                                                  "starts_at": "2023-11-16T10:00:00+09:00", "venue": VENUE})
    assert response.status_code == 409
    assert error(response)["code"] == "conflict"


# --- move, cancel, versions ---------------------------------------------------------------------

def test_moving_raises_the_sequence_and_keeps_the_length(client, db, clock):
    record = schedule(db, clock)
    url = f"/api/meetings/{record.meeting.id}"
    moved = client.patch(url, json={"expected_version": 1, "starts_at": "2023-11-17T14:00:00+09:00",
                                    "note": "委員の都合により"})
    assert moved.status_code == 200, moved.text
    moved = moved.json()
    assert (moved["starts_at"], moved["ends_at"]) == ("2023-11-17T14:00:00+09:00", "2023-11-17T15:30:00+09:00")
    assert (moved["sequence"], moved["version"]) == (1, 2)
    venue = client.patch(url, json={"expected_version": 2, "venue": "県庁行政棟10階 特8会議室"}).json()
    assert (venue["venue"], venue["sequence"], venue["version"]) == ("県庁行政棟10階 特8会議室", 2, 3)
    # Nothing changes: neither the sequence nor the version moves.
    same = client.patch(url, json={"expected_version": 3, "venue": "県庁行政棟10階 特8会議室"}).json()
    assert (same["sequence"], same["version"]) == (2, 3)
    entries = sorted((e for e in audit.entries(db, SYSTEM, limit=100) if e.action == "meeting.moved"),
                     key=lambda e: e.id)
    assert [set(e.detail["changed"]) for e in entries] == [{"starts_at", "ends_at"}, {"venue"}]
    assert entries[0].detail["note"] == "委員の都合により"


def test_a_stale_version_is_409_with_the_current_one(client, db, clock):
    record = schedule(db, clock)
    url = f"/api/meetings/{record.meeting.id}"
    assert client.patch(url, json={"expected_version": 1, "venue": "特8会議室"}).status_code == 200
    for method, path, body in [("PATCH", url, {"expected_version": 1, "venue": "特7会議室"}),
                               ("POST", f"{url}/cancel", {"expected_version": 1, "reason": "台風"}),
                               ("POST", f"{url}/held", {"expected_version": 1, "observers": 0}),
                               ("PUT", f"{url}/attendance", {"expected_version": 1, "attendance": []})]:
        response = client.request(method, path, json=body)
        assert response.status_code == 409, (path, response.text)
        assert (error(response)["code"], error(response)["current_version"]) == ("stale_version", 2)
    assert client.get(url).json()["venue"] == "特8会議室"


def test_cancelling_raises_the_sequence_and_ends_the_changes(client, db, clock):
    record = schedule(db, clock)
    url = f"/api/meetings/{record.meeting.id}"
    assert rules(client.post(f"{url}/cancel", json={"expected_version": 1})) == {("reason", "required")}
    cancelled = client.post(f"{url}/cancel", json={"expected_version": 1, "reason": "台風の接近により"})
    assert cancelled.status_code == 200, cancelled.text
    cancelled = cancelled.json()
    assert (cancelled["status"], cancelled["cancelled_reason"], cancelled["sequence"]) == ("cancelled", "台風の接近により", 1)
    assert cancelled["allowed_actions"] == []
    for method, path, body in [("PATCH", url, {"expected_version": 2, "venue": "特8会議室"}),
                               ("POST", f"{url}/cancel", {"expected_version": 2, "reason": "再度"}),
                               ("POST", f"{url}/held", {"expected_version": 2}),
                               ("POST", f"{url}/next", {"starts_at": "2023-12-21T10:00:00+09:00"})]:
        response = client.request(method, path, json=body)
        assert response.status_code == 409, (path, response.text)
        assert error(response)["current_state"] == "cancelled"
        assert error(response)["allowed_events"] == []


def test_a_meeting_is_not_held_before_it_starts(client, db, clock):
    record = schedule(db, clock, starts_at=tokyo(2025, 7, 1, 10), ends_at=None)
    response = client.post(f"/api/meetings/{record.meeting.id}/held", json={"expected_version": 1})
    assert response.status_code == 409
    assert "開始前" in error(response)["message"]["ja"]


def test_a_closed_meeting_has_no_observers(client, db, clock):
    record = schedule(db, clock, is_public=False, closed_reason="個人情報を含む事項を審議するため")
    response = client.post(f"/api/meetings/{record.meeting.id}/held", json={"expected_version": 1, "observers": 2})
    assert rules(response) == {("observers", "closed_meeting")}


# --- materials ----------------------------------------------------------------------------------

def test_materials_come_from_the_cases_on_the_agenda(client, db, clock, files, make_case):
    on_agenda = make_case("subcommittee_review", body=REVIEWING_BODY)
    elsewhere = make_case("subcommittee_review", body=REVIEWING_BODY, title="別の事務")
    record = schedule(db, clock, agenda=[{"assessment_id": on_agenda.id, "purpose": "third_party_review",
                                          "title": TOPIC}])
    url = f"/api/meetings/{record.meeting.id}/materials"
    ours = [attach(db, files, clock, on_agenda, f"資料{n}") for n in range(4)]
    theirs = attach(db, files, clock, elsewhere, "他の資料")
    assert rules(client.post(url, json={"document_id": theirs.id, "label": "資料1"})) == {("document_id",
                                                                                           "case_on_agenda")}
    assert rules(client.post(url, json={"document_id": 999_999, "label": "資料1"})) == {("document_id", "exists")}
    assert rules(client.post(url, json={"document_id": ours[0].id, "label": "第1号"})) == {("label", "label_format")}
    for document, label in zip(ours, ["資料１０", "資料３－１", "資料2", "資料1"], strict=True):
        assert client.post(url, json={"document_id": document.id, "label": label}).status_code == 200
    assert rules(client.post(url, json={"document_id": theirs.id, "label": "資料2"})) == {("document_id",
                                                                                           "case_on_agenda")}
    fifth = attach(db, files, clock, on_agenda, "追加")
    assert rules(client.post(url, json={"document_id": fifth.id, "label": "資料2"})) == {("label", "unique_label")}
    listed = client.get(f"/api/meetings/{record.meeting.id}").json()["materials"]
    assert [m["label"] for m in listed] == ["資料1", "資料2", "資料3-1", "資料10"]
    # A material is handed out at one meeting.
    other = schedule(db, clock, agenda=[{"assessment_id": on_agenda.id, "purpose": "third_party_review",
                                         "title": TOPIC}])
    response = client.post(f"/api/meetings/{other.meeting.id}/materials", json={"document_id": ours[0].id,
                                                                                 "label": "資料1"})
    assert response.status_code == 409


def test_members_only_material_is_not_shown_to_outsiders(public, person, db, clock, files, make_case):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    record = schedule(db, clock, agenda=[{"assessment_id": case.id, "purpose": "third_party_review", "title": TOPIC}])
    secret = attach(db, files, clock, case, "ログのイメージ", Classification.MEMBERS_ONLY)
    meetings.link_material(db, clock, record.meeting.id, meetings.MaterialInput(document_id=secret.id, label="資料2"),
                           SYSTEM)
    url = f"/api/meetings/{record.meeting.id}"
    assert [m["label"] for m in public.get(url, headers=person("member").headers).json()["materials"]] == ["資料2"]
    for headers in ({}, person("office").headers, person("other_member").headers):
        assert public.get(url, headers=headers).json()["materials"] == []


# --- visibility and listing ---------------------------------------------------------------------

def test_closed_meetings_are_hidden_from_the_public_and_other_bodies(public, person, db, clock, make_case):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)  # 市民課's case
    closed = schedule(db, clock, is_public=False, closed_reason="個人情報を含む事項を審議するため",
                      agenda=[{"assessment_id": case.id, "purpose": "third_party_review", "title": TOPIC}])
    open_one = schedule(db, clock)
    expected = {"public": 404, "other_member": 404, "other_office": 404, "member": 200, "chair": 200, "office": 200,
                "secretariat": 200, "admin": 200}
    for role, status in expected.items():
        headers = {} if role == "public" else person(role).headers
        for path in (f"/api/meetings/{closed.meeting.id}", f"/api/meetings/{closed.meeting.id}/quorum"):
            assert public.get(path, headers=headers).status_code == status, (role, path)
        listed = {m["id"] for m in public.get("/api/meetings", headers=headers).json()["items"]}
        assert listed == ({open_one.meeting.id, closed.meeting.id} if status == 200 else {open_one.meeting.id}), role


def test_list_filters(client, db, clock):
    first = schedule(db, clock, starts_at=tokyo(2023, 11, 16, 10), ends_at=None)
    second = schedule(db, clock, starts_at=tokyo(2023, 12, 21, 10), ends_at=None)
    other = schedule(db, clock, body=OTHER_BODY, starts_at=tokyo(2023, 12, 1, 0, 30), ends_at=None)
    meetings.cancel(db, clock, second.meeting.id, Cancellation(expected_version=1, reason="中止"), SYSTEM)

    def ids(**params):
        page = client.get("/api/meetings", params=params).json()
        assert page["total"] == len(page["items"])
        return [m["id"] for m in page["items"]]

    assert ids() == [first.meeting.id, other.meeting.id, second.meeting.id]
    assert ids(body_id=first.meeting.body_id) == [first.meeting.id, second.meeting.id]
    assert ids(status="cancelled") == [second.meeting.id]
    # Dates are Tokyo dates: 00:30 on 1 December in Tokyo is still 30 November in UTC.
    assert ids(**{"from": "2023-12-01"}) == [other.meeting.id, second.meeting.id]
    assert ids(to="2023-11-30") == [first.meeting.id]
    assert ids(**{"from": "2023-12-01", "to": "2023-12-01"}) == [other.meeting.id]
    assert client.get("/api/meetings", params={"limit": 1, "offset": 1}).json()["items"][0]["id"] == other.meeting.id


# --- validation ---------------------------------------------------------------------------------

BASE = {"body": REVIEWING_BODY, "starts_at": "2023-11-16T10:00:00+09:00", "venue": VENUE}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"ends_at": "2023-11-16T09:00:00+09:00"}, {("ends_at", "after_start")}),
    ({"ends_at": "2023-11-16T10:00:00+09:00"}, {("ends_at", "after_start")}),
    ({"is_public": False}, {("closed_reason", "required_when_closed")}),
    ({"closed_reason": "理由"}, {("closed_reason", "only_when_closed")}),
    ({"body": None}, {("body_id", "required")}),
    ({"body": None, "body_id": 999_999}, {("body_id", "exists")}),
    ({"starts_at": "1999-12-31T10:00:00+09:00"}, {("starts_at", "date_range")}),
    ({"starts_at": "9999-12-31T23:00:00-12:00"}, {("starts_at", "date_range")}),
    ({"starts_at": "令和5年11月16日"}, {("starts_at", "datetime")}),
    ({"venue": ""}, {("venue", "not_empty")}),
    ({"venue": "特9\x00会議室"}, {("venue", "no_control_characters")}),
    ({"number": 0}, {("number", "minimum")}),
    ({"term": "x" * 21}, {("term", "max_length")}),
    ({"agenda": [{"purpose": "chat", "title": "議題"}]}, {("agenda.0.purpose", "one_of")}),
    ({"agenda": [{"title": "議題", "assessment_id": 999_999}]}, {("agenda.0.assessment_id", "exists")}),
    ({"agenda": [{"title": "一", "position": 1}, {"title": "二", "position": 1}]}, {("agenda.1.position", "unique")}),
    ({"materials": [{"document_id": 1, "label": "別紙"}]}, {("materials.0.label", "label_format")}),
    ({"colour": "blue"}, {("colour", "unknown_field")}),
])
def test_bad_schedules_name_the_field_and_rule(client, changes, expected):
    response = client.post("/api/meetings", json={key: value for key, value in {**BASE, **changes}.items()
                                                  if value is not None})
    found = rules(response)
    assert expected <= found, found


def test_naive_times_are_tokyo_times_and_offsets_are_kept_as_instants(client):
    naive = client.post("/api/meetings", json={**BASE, "starts_at": "2023-11-16T10:00:00"}).json()
    utc = client.post("/api/meetings", json={**BASE, "starts_at": "2023-11-16T01:00:00Z"}).json()
    assert naive["starts_at"] == utc["starts_at"] == "2023-11-16T10:00:00+09:00"


@pytest.mark.parametrize("body", [{"expected_version": 1, "ends_at": "2023-11-16T09:00:00+09:00"},
                                  {"expected_version": 1, "starts_at": "2023-11-16T12:00:00+09:00",
                                   "ends_at": "2023-11-16T11:00:00+09:00"}])
def test_a_move_that_ends_before_it_starts_is_422(client, db, clock, body):
    record = schedule(db, clock)
    assert rules(client.patch(f"/api/meetings/{record.meeting.id}", json=body)) == {("ends_at", "after_start")}


@pytest.mark.parametrize("path", ["/api/meetings/0", "/api/meetings/-1", "/api/meetings/99999999999",
                                  "/api/meetings/abc", "/api/meetings/1/quorum", "/api/meetings/1/minutes"])
def test_odd_ids_are_404_or_422(client, path):
    assert client.get(path).status_code in (404, 422)


@pytest.mark.parametrize("query", ["status=finished", "from=2023-13-01", "to=1800-01-01", "body_id=0", "limit=0",
                                   "from=99999-01-01"])
def test_odd_list_queries_are_422(client, query):
    response = client.get(f"/api/meetings?{query}")
    assert response.status_code == 422
    error(response)


_json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                            max_leaves=6)
_fields = st.sampled_from(["body", "body_id", "term", "number", "starts_at", "ends_at", "venue", "is_public",
                           "closed_reason", "agenda", "materials", "expected_version", "observers", "attendance",
                           "reason", "label", "document_id"])
_instants = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(lambda d: d.isoformat())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(_fields, _json_values | _instants, max_size=6))
def test_no_meeting_body_answers_500(client, body):
    for method, path in [("POST", "/api/meetings"), ("PATCH", "/api/meetings/1"), ("POST", "/api/meetings/1/held"),
                         ("PUT", "/api/meetings/1/attendance"), ("POST", "/api/meetings/1/next"),
                         ("POST", "/api/meetings/1/materials"), ("POST", "/api/meetings/1/cancel")]:
        response = client.request(method, path, content=json.dumps({**BASE, **body}))
        assert response.status_code < 500, (path, response.text)



def test_a_public_agenda_names_to_each_reader_only_the_cases_they_may_see(public, person, db, clock, make_case):
    """The item's title is public; the id of a case under review would tell a visitor that the case exists."""
    hidden = make_case("subcommittee_review", body=REVIEWING_BODY)  # not public while under review
    commented = make_case("public_comment", body=REVIEWING_BODY)    # public: the comment call is out
    record = schedule(db, clock, agenda=[
        {"assessment_id": hidden.id, "purpose": "third_party_review", "title": TOPIC},
        {"assessment_id": commented.id, "purpose": "other", "title": "意見聴取の状況について"}])
    url = f"/api/meetings/{record.meeting.id}"
    for role, seen in {"public": [None, commented.id], "other_member": [None, commented.id],
                       "other_office": [None, commented.id], "member": [hidden.id, commented.id],
                       "office": [hidden.id, commented.id], "secretariat": [hidden.id, commented.id]}.items():
        headers = {} if role == "public" else person(role).headers
        for answer in (public.get(url, headers=headers).json(),
                       public.get("/api/meetings", headers=headers).json()["items"][0]):
            assert [item["assessment_id"] for item in answer["agenda"]] == seen, role
            assert [item["title"] for item in answer["agenda"]] == [TOPIC, "意見聴取の状況について"]
