"""Minutes (会議録) of the Fukuoka meeting over HTTP through every status: drafted, sent to the members
with a deadline (a Sunday moves to Monday), corrected by a member, applied by the secretariat, confirmed
by the chair and published — the non-public passage withheld from the public version; illegal moves,
who corrects, confirms and reads, and odd requests (tests/integration/test_minutes.py: every status ×
step pair in the service)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers.meetings import FUKUOKA, FUKUOKA_MEMBERS, TOPIC, error, rules, schedule, tokyo
from tests.helpers.minutes import PASSAGES, draft, minutes_in
from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow import accounts, audit, meetings
from workflow.meetings import HeldMeeting

CORRECTED = "現在60市町村のうち、29市町村で戸籍の附票を取得できます。糸島市は住所地を置く場合に取得できます。"


def member_headers(db, clock, name: str) -> dict[str, str]:
    """The API token headers of one of the Fukuoka members (made by the `fukuoka` fixture)."""
    number = list(FUKUOKA_MEMBERS).index(name) + 1
    token = accounts.create_token(db, clock, f"fukuoka{number}@example.jp", SYSTEM, name="tests",
                                  lifetime=timedelta(days=3650)).token
    return {"Authorization": f"Bearer {token}"}


def test_the_fukuoka_minutes_through_every_status(client, public, db, clock, held):
    url = f"/api/meetings/{held.meeting.id}/minutes"
    created = client.post(url, json={"passages": PASSAGES})
    assert created.status_code == 201, created.text
    assert (created.json()["status"], created.json()["version"]) == ("draft", "full")
    assert public.get(url).status_code == 404  # not published yet

    # Sent on Friday 24 November with a deadline on Sunday 3 December: it moves to Monday the 4th.
    clock.set(tokyo(2023, 11, 24, 10))
    sent = client.post(f"{url}/send", json={"deadline": "2023-12-03"})
    assert sent.status_code == 200, sent.text
    sent = sent.json()
    assert (sent["status"], sent["correction_deadline"], sent["sent_on"]) == ("correcting", "2023-12-04", "2023-11-24")
    assert sent["notices"][0]["ja"] == ("令和5年12月3日（日）は閉庁日（日曜日）のため、"
                                        "締切を翌開庁日の令和5年12月4日（月）としました。")

    # 佐々木委員 corrects the fourth passage; the member is who signed in, not what the body says.
    sasaki = member_headers(db, clock, "佐々木 久美子")
    clock.set(tokyo(2023, 11, 30, 15))
    correction = public.post(f"{url}/corrections", headers=sasaki, json={"passage_index": 3, "text": CORRECTED})
    assert correction.status_code == 201, correction.text
    correction = correction.json()
    assert (correction["member"], correction["received_on"], correction["applied"]) == ("佐々木 久美子", "2023-11-30",
                                                                                       False)
    applied = client.post(f"{url}/corrections/{correction['id']}/apply")
    assert applied.status_code == 200, applied.text
    applied = applied.json()
    assert applied["passages"][3] == {"index": 3, "speaker": "実施機関", "text": CORRECTED, "public": True}
    assert applied["corrections"][0]["applied"] is True

    # The chair (部会長) confirms; then the secretariat publishes.
    clock.set(tokyo(2023, 12, 8, 10))
    confirmed = public.post(f"{url}/confirm", headers=member_headers(db, clock, "小林 登"))
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["confirmed_by"], confirmed.json()["confirmed_on"]) == (
        "confirmed", "小林 登", "2023-12-08")
    clock.set(tokyo(2023, 12, 15, 10))
    published = client.post(f"{url}/publish", json={})
    assert published.status_code == 200, published.text
    assert (published.json()["status"], published.json()["published_on"]) == ("published", "2023-12-15")

    # The public version: public passages and the meeting's facts, the non-public passage withheld.
    shown = public.get(url)
    assert shown.status_code == 200, shown.text
    shown = shown.json()
    assert shown["version"] == "public"
    assert [p["text"] for p in shown["passages"]] == [PASSAGES[0]["text"], PASSAGES[1]["text"], CORRECTED]
    assert all(p.get("public") is None and p.get("index") is None for p in shown["passages"])
    assert "ログ" not in str(shown["passages"])
    assert shown["corrections"] is None and shown["correction_deadline"] is None
    assert (shown["meeting"]["title"], shown["meeting"]["venue"], shown["meeting"]["observers"]) == (
        f"第16期第2回 {FUKUOKA}", "県庁行政棟10階 特9会議室", 0)
    assert shown["meeting"]["quorum"]["met"] is True
    assert public.get(url, params={"version": "full"}).status_code == 401

    # The body's members read the full version (and may ask for the public one).
    full = public.get(url, headers=sasaki).json()
    assert (full["version"], len(full["passages"]), full["passages"][2]["public"]) == ("full", 4, False)
    assert public.get(url, headers=sasaki, params={"version": "public"}).json()["version"] == "public"

    actions = [e.action for e in sorted(audit.entries(db, SYSTEM, limit=1000), key=lambda e: e.id)
               if e.object_type == "minutes"]
    assert actions == ["minutes.drafted", "minutes.sent", "minutes.correction_recorded", "minutes.correction_applied",
                       "minutes.confirmed", "minutes.published"]
    assert audit.verify(db, SYSTEM).ok


# --- illegal moves ------------------------------------------------------------------------------


def test_an_illegal_move_over_the_api_is_409_listing_the_possible_ones(client, db, clock, held):
    url = f"/api/meetings/{held.meeting.id}/minutes"
    client.post(url, json={"passages": PASSAGES})
    response = client.post(f"{url}/publish")
    assert response.status_code == 409
    body = error(response)
    assert (body["current_state"], [e["name"] for e in body["allowed_events"]]) == ("draft", ["revise", "send"])
    assert "草案" in body["message"]["ja"]


def test_a_second_draft_replaces_the_first_until_it_is_sent(client, db, clock, held):
    url = f"/api/meetings/{held.meeting.id}/minutes"
    assert client.post(url, json={"passages": PASSAGES}).status_code == 201
    again = client.post(url, json={"passages": PASSAGES[:2]})
    assert (again.status_code, len(again.json()["passages"])) == (200, 2)
    client.post(f"{url}/send", json={"deadline": "2023-12-04"})
    assert client.post(url, json={"passages": PASSAGES}).status_code == 409


def test_minutes_are_for_held_meetings(client, db, clock):
    scheduled = schedule(db, clock)
    response = client.post(f"/api/meetings/{scheduled.meeting.id}/minutes", json={"passages": PASSAGES})
    assert response.status_code == 409
    assert client.post("/api/meetings/999999/minutes", json={"passages": PASSAGES}).status_code == 404


# --- the deadline -------------------------------------------------------------------------------


def test_a_past_deadline_is_422(client, db, clock, held):
    url = f"/api/meetings/{held.meeting.id}/minutes"
    client.post(url, json={"passages": PASSAGES})
    assert rules(client.post(f"{url}/send", json={"deadline": "2023-11-16"})) == {("deadline", "not_past")}
    assert rules(client.post(f"{url}/send", json={"deadline": "3000-01-01"})) == {("deadline", "maximum")}
    assert client.get(url).json()["status"] == "draft"


# --- corrections --------------------------------------------------------------------------------

@pytest.fixture
def correcting(client, db, clock, held):
    url = f"/api/meetings/{held.meeting.id}/minutes"
    client.post(url, json={"passages": PASSAGES})
    client.post(f"{url}/send", json={"deadline": "2023-12-04"})
    return url


def test_who_may_correct(public, person, db, clock, correcting):
    body = {"passage_index": 0, "text": "誤字の訂正"}
    assert public.post(f"{correcting}/corrections", json=body).status_code == 401
    for role in ("other_member", "office"):
        assert public.post(f"{correcting}/corrections", json=body, headers=person(role).headers).status_code == 403
    sakurai = member_headers(db, clock, "櫻井 幸一")
    named = public.post(f"{correcting}/corrections", json={**body, "member": "井上 真由美"}, headers=sakurai)
    assert rules(named) == {("member", "secretariat_only")}
    # The secretariat records a correction received in writing, in the member's name.
    by_fax = public.post(f"{correcting}/corrections", json={**body, "member": "井上 真由美"},
                         headers=person("secretariat").headers)
    assert (by_fax.status_code, by_fax.json()["member"]) == (201, "井上 真由美")


def test_corrections_name_a_passage_that_exists_and_apply_once(client, db, clock, correcting):
    assert rules(client.post(f"{correcting}/corrections", json={"passage_index": 9, "text": "x"})) == {
        ("passage_index", "passage_exists")}
    general = client.post(f"{correcting}/corrections", json={"text": "全体として発言者の表記を統一すること"}).json()
    assert rules(client.post(f"{correcting}/corrections/{general['id']}/apply")) == {("passage_index", "required")}
    applied = client.post(f"{correcting}/corrections/{general['id']}/apply",
                          json={"passage_index": 1, "speaker": "事務局（情報政策課）", "text": PASSAGES[1]["text"],
                                "public": True})
    assert applied.status_code == 200, applied.text
    assert applied.json()["passages"][1]["speaker"] == "事務局（情報政策課）"
    assert client.post(f"{correcting}/corrections/{general['id']}/apply").status_code == 409
    assert client.post(f"{correcting}/corrections/999999/apply").status_code == 404


def test_a_passage_can_be_marked_not_public_when_applying(client, correcting):
    correction = client.post(f"{correcting}/corrections", json={"passage_index": 1, "text": "非公開とすべき"}).json()
    applied = client.post(f"{correcting}/corrections/{correction['id']}/apply",
                          json={"text": PASSAGES[1]["text"], "public": False}).json()
    assert applied["passages"][1]["public"] is False


# --- confirmation and publication ---------------------------------------------------------------

def test_only_the_chair_or_the_secretariat_confirms(public, person, db, clock, correcting):
    assert public.post(f"{correcting}/confirm", headers=member_headers(db, clock, "山元 規靖")).status_code == 403
    assert public.post(f"{correcting}/confirm", headers=person("other_member").headers).status_code == 403
    assert public.post(f"{correcting}/confirm").status_code == 401
    # The secretariat records the chair's confirmation (会長一任): the body's chair by default.
    confirmed = public.post(f"{correcting}/confirm", headers=person("secretariat").headers, json={})
    assert (confirmed.status_code, confirmed.json()["confirmed_by"]) == (200, "小林 登")


def test_confirmation_dates_lie_between_the_meeting_and_today(client, correcting):
    assert rules(client.post(f"{correcting}/confirm", json={"confirmed_on": "2023-11-15"})) == {
        ("confirmed_on", "between_meeting_and_today")}
    assert rules(client.post(f"{correcting}/confirm", json={"confirmed_on": "2023-11-18"})) == {
        ("confirmed_on", "between_meeting_and_today")}
    confirmed = client.post(f"{correcting}/confirm", json={"confirmed_on": "2023-11-16", "confirmed_by": "小林 登"})
    assert confirmed.json()["confirmed_on"] == "2023-11-16"
    assert rules(client.post(f"{correcting}/publish", json={"published_on": "2023-11-15"})) == {
        ("published_on", "between_confirmation_and_today")}


def test_a_chair_names_only_themself(public, db, clock, correcting):
    response = public.post(f"{correcting}/confirm", headers=member_headers(db, clock, "小林 登"),
                           json={"confirmed_by": "山元 規靖"})
    assert rules(response) == {("confirmed_by", "self")}


# --- reading ------------------------------------------------------------------------------------

def test_before_publication_only_the_body_and_the_staff_read_the_minutes(public, person, db, clock, held):
    draft(db, clock, held.meeting.id)
    url = f"/api/meetings/{held.meeting.id}/minutes"
    for role, status in {"public": 404, "other_member": 404, "office": 404, "secretariat": 200, "admin": 200}.items():
        headers = {} if role == "public" else person(role).headers
        assert public.get(url, headers=headers).status_code == status, role
    member = member_headers(db, clock, "井上 真由美")
    assert public.get(url, headers=member).json()["version"] == "full"
    # The secretariat previews the public version before it is published.
    preview = public.get(url, headers=person("secretariat").headers, params={"version": "public"}).json()
    assert (preview["version"], len(preview["passages"])) == ("public", 3)


def test_the_minutes_of_a_closed_meeting_stay_hidden_from_outsiders(public, person, db, clock, make_case):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)  # 市民課's case
    record = schedule(db, clock, is_public=False, closed_reason="個人情報を含む事項を審議するため",
                      starts_at=tokyo(2025, 5, 1, 10), ends_at=None,
                      agenda=[{"assessment_id": case.id, "purpose": "third_party_review", "title": TOPIC}])
    meetings.record_held(db, clock, record.meeting.id, HeldMeeting(expected_version=1), SYSTEM)
    minutes_in(db, clock, record.meeting.id, "published")
    url = f"/api/meetings/{record.meeting.id}/minutes"
    expected = {"public": 404, "other_member": 404, "other_office": 404, "office": 200, "member": 200, "chair": 200,
                "secretariat": 200, "admin": 200}
    for role, status in expected.items():
        headers = {} if role == "public" else person(role).headers
        assert public.get(url, headers=headers).status_code == status, role
    assert public.get(url, headers=person("office").headers).json()["version"] == "public"
    assert public.get(url, headers=person("office").headers, params={"version": "full"}).status_code == 404


@pytest.mark.parametrize("body", [{}, {"passages": []}, {"passages": [{"speaker": "部会長"}]},
                                  {"passages": [{"speaker": "", "text": "x"}]},
                                  {"passages": [{"speaker": "部会長", "text": "x", "public": "maybe"}]},
                                  {"passages": [{"speaker": "部会長", "text": "x", "secret": True}]},
                                  {"passages": "全文"}, {"passages": [{"speaker": "部会長", "text": "\x00"}]}])
def test_bad_drafts_are_422(client, held, body):
    response = client.post(f"/api/meetings/{held.meeting.id}/minutes", json=body)
    assert response.status_code == 422
    assert error(response)["fields"]


def test_overlong_minutes_are_422(client, held):
    passages = [{"speaker": "部会長", "text": "あ" * 20_000}] * 101
    assert rules(client.post(f"/api/meetings/{held.meeting.id}/minutes", json={"passages": passages})) == {
        ("passages", "max_total_length")}


@pytest.mark.parametrize(("path", "body"), [
    ("send", {"deadline": "tomorrow"}), ("send", {}), ("corrections", {"text": ""}),
    ("corrections", {"text": "x", "passage_index": -1}), ("corrections/abc/apply", {}),
    ("corrections/0/apply", {}), ("confirm", {"confirmed_on": "2023-02-30"}), ("publish", {"published_on": 5}),
    ("confirm", []), ("publish", "null"),
])
def test_odd_minutes_requests_never_500(client, correcting, path, body):
    response = client.post(f"{correcting}/{path}", json=body)
    assert 400 <= response.status_code < 500, response.text
