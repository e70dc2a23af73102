"""Calendar feeds: a member's, a body's and the public one, parsed back with icalendar.

Who may issue and rotate the feeds' secret URLs: the role table in tests/api/test_policy_feeds.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from sqlmodel import select

from notifications import feeds
from notifications.models import CalendarToken
from tests.helpers.people import OTHER_BODY, REVIEWING_BODY, SYSTEM
from workflow import accounts, audit
from workflow.accounts import body_by_name
from workflow.clock import TOKYO
from workflow.models import AuditEntry, Membership
from workflow.organisations import EVERY_ORGANISATION
from workflow.records import AgendaItem, Meeting, Minutes

VENUE = "県庁行政棟10階 特9会議室"
NOON = datetime(2023, 12, 21, 10, 0, tzinfo=TOKYO)  # 令和5年12月21日（木）午前10時


# --- helpers ------------------------------------------------------------------------------------

def body_id(db, name: str = REVIEWING_BODY) -> int:
    with db.writing(EVERY_ORGANISATION) as session:
        return body_by_name(session, name).id


def add_meeting(db, clock, body: int, number: int, starts_at: datetime = NOON, *, minutes: int | None = 90,
                venue: str = VENUE, is_public: bool = True, status: str = "scheduled", term: str = "第16期",
                agenda: tuple[str, ...] = ()) -> Meeting:
    """A meeting as a row (and its agenda), as the meetings service would have stored it."""
    with db.writing(EVERY_ORGANISATION) as session:
        meeting = Meeting(body_id=body, term=term, number=number, starts_at=starts_at,
                          ends_at=starts_at + timedelta(minutes=minutes) if minutes else None, venue=venue,
                          is_public=is_public, status=status,
                          closed_reason=None if is_public else "個人情報を審議するため",
                          cancelled_reason="台風接近のため" if status == "cancelled" else None,
                          created_at=clock.now(), updated_at=clock.now())
        session.add(meeting)
        session.flush()
        for position, title in enumerate(agenda, start=1):
            session.add(AgendaItem(meeting_id=meeting.id, position=position, purpose="other", title=title))
    return meeting


def move_meeting(db, clock, meeting_id: int, starts_at: datetime, venue: str | None = None) -> None:
    """What the meetings service does on a move: new date/time (and venue), sequence + 1."""
    with db.writing(EVERY_ORGANISATION) as session:
        meeting = session.get(Meeting, meeting_id)
        length = meeting.ends_at - meeting.starts_at
        meeting.starts_at, meeting.ends_at = starts_at, starts_at + length
        meeting.venue = venue or meeting.venue
        meeting.sequence += 1
        meeting.updated_at = clock.now()


def cancel_meeting(db, clock, meeting_id: int) -> None:
    with db.writing(EVERY_ORGANISATION) as session:
        meeting = session.get(Meeting, meeting_id)
        meeting.status, meeting.cancelled_reason = "cancelled", "台風接近のため"
        meeting.sequence += 1
        meeting.updated_at = clock.now()


def issue(public, person_or_headers, **body) -> dict:
    headers = getattr(person_or_headers, "headers", person_or_headers)
    response = public.post("/api/calendar-tokens", headers=headers, json=body or None)
    assert response.status_code == 201, response.text
    return response.json()


def path_of(url: str) -> str:
    return urlsplit(url).path


def fetch(public, url: str) -> Calendar:
    response = public.get(path_of(url))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@dataclass
class Feeds:
    body: int
    other_body: int
    member_url: str
    other_member_url: str


@pytest.fixture
def setup(public, person, db) -> Feeds:
    member, other = person("member"), person("other_member")
    return Feeds(body=body_id(db), other_body=body_id(db, OTHER_BODY),
                 member_url=issue(public, member)["url"], other_member_url=issue(public, other)["url"])


# --- the member's feed --------------------------------------------------------------------------

def test_a_member_feed_lists_the_body_meetings_in_tokyo_time(public, db, clock, setup):
    meeting = add_meeting(db, clock, setup.body, 3, agenda=("全項目評価書の第三者点検について", "その他"))
    response = public.get(path_of(setup.member_url))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    assert b"DTSTART;TZID=Asia/Tokyo:20231221T100000" in response.content
    calendar = Calendar.from_ical(response.content)

    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["PRODID"]) == "-//shingi//JA"
    assert str(calendar["VERSION"]) == "2.0"
    assert "審議会" in str(calendar["X-WR-CALNAME"])
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    event = events(calendar)[f"meeting-{meeting.id}@shingi"]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == NOON and start.astimezone(UTC) == datetime(2023, 12, 21, 1, 0, tzinfo=UTC)
    assert str(start.tzinfo) == "Asia/Tokyo" and event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert end == datetime(2023, 12, 21, 11, 30, tzinfo=TOKYO)
    assert event.decoded("DTSTAMP") == clock.now()
    assert int(event["SEQUENCE"]) == 0
    assert str(event["SUMMARY"]) == f"第16期第3回 {REVIEWING_BODY}"
    assert str(event["LOCATION"]) == VENUE
    description = str(event["DESCRIPTION"])
    assert "1. 全項目評価書の第三者点検について" in description and "2. その他" in description
    assert str(event["STATUS"]) == "CONFIRMED"


def test_the_summary_names_term_number_and_body(public, db, clock, person):
    body = "第二部会（住基・番号利用法部会）"
    accounts.add_user(db, clock, accounts.NewUser(email="nibukai@example.jp", display_name="第二部会 委員",
                                                  roles={"member"}, bodies={body: "member"}), SYSTEM)
    token = accounts.create_token(db, clock, "nibukai@example.jp", SYSTEM).token
    meeting = add_meeting(db, clock, body_id(db, body), 3)
    calendar = fetch(public, issue(public, {"Authorization": f"Bearer {token}"})["url"])
    assert str(events(calendar)[f"meeting-{meeting.id}@shingi"]["SUMMARY"]) == "第16期第3回 第二部会（住基・番号利用法部会）"


def test_moving_a_meeting_keeps_its_uid_and_raises_the_sequence(public, db, clock, setup):
    meeting = add_meeting(db, clock, setup.body, 3)
    before = events(fetch(public, setup.member_url))[f"meeting-{meeting.id}@shingi"]
    moved_to = datetime(2023, 12, 22, 14, 0, tzinfo=TOKYO)
    clock.advance(days=1)
    move_meeting(db, clock, meeting.id, moved_to, venue="特3会議室")

    after = events(fetch(public, setup.member_url))
    assert list(after) == [f"meeting-{meeting.id}@shingi"]  # the same event, updated in place
    event = after[f"meeting-{meeting.id}@shingi"]
    assert int(event["SEQUENCE"]) == int(before["SEQUENCE"]) + 1 == 1
    assert event.decoded("DTSTART") == moved_to and event.decoded("DTEND") == moved_to + timedelta(minutes=90)
    assert str(event["LOCATION"]) == "特3会議室"
    assert event.decoded("DTSTAMP") == clock.now()


def test_a_cancelled_meeting_stays_as_cancelled(public, db, clock, setup):
    meeting = add_meeting(db, clock, setup.body, 3)
    cancel_meeting(db, clock, meeting.id)
    for calendar in (fetch(public, setup.member_url), fetch(public, "/feeds/public.ics")):
        event = events(calendar)[f"meeting-{meeting.id}@shingi"]
        assert str(event["STATUS"]) == "CANCELLED"
        assert int(event["SEQUENCE"]) == 1
        assert "中止" in str(event["SUMMARY"])
    assert "台風接近のため" in str(events(fetch(public, setup.member_url))[f"meeting-{meeting.id}@shingi"]["DESCRIPTION"])


def test_a_member_of_another_body_sees_none_of_this_body_meetings(public, db, clock, setup, make_case):
    mine = add_meeting(db, clock, setup.body, 3)
    add_meeting(db, clock, setup.body, 4, NOON + timedelta(days=30), is_public=False)
    make_case("public_comment", body=REVIEWING_BODY)
    theirs = add_meeting(db, clock, setup.other_body, 1)

    other = events(fetch(public, setup.other_member_url))
    assert list(other) == [f"meeting-{theirs.id}@shingi"]
    assert f"meeting-{mine.id}@shingi" in events(fetch(public, setup.member_url))


def test_a_member_who_leaves_a_body_no_longer_sees_its_meetings(public, db, clock, setup, person):
    meeting = add_meeting(db, clock, setup.body, 3)
    assert f"meeting-{meeting.id}@shingi" in events(fetch(public, setup.member_url))
    with db.writing(EVERY_ORGANISATION) as session:
        user = session.exec(select(accounts.UserAccount).where(accounts.UserAccount.email == person("member").email)).one()
        session.delete(session.exec(select(Membership).where(Membership.user_id == user.id)).one())
    assert events(fetch(public, setup.member_url)) == {}


def test_deadlines_are_all_day_events_for_the_members_of_the_reviewing_body(public, db, clock, setup, make_case):
    in_comment = make_case("public_comment", body=REVIEWING_BODY)  # comment_end 2025-04-30
    elsewhere = make_case("public_comment", body=OTHER_BODY, title="他の会議体の案件")
    reviewed = make_case("published", body=REVIEWING_BODY)  # has an annual review and a re-assessment due
    held = add_meeting(db, clock, setup.body, 2, datetime(2025, 5, 15, 14, 0, tzinfo=TOKYO), status="held")
    with db.writing(EVERY_ORGANISATION) as session:
        minutes = Minutes(meeting_id=held.id, status="correcting", correction_deadline=date(2025, 6, 13),
                          created_at=clock.now(), updated_at=clock.now())
        session.add(minutes)
        session.flush()
    other_held = add_meeting(db, clock, setup.other_body, 2, datetime(2025, 5, 15, 14, 0, tzinfo=TOKYO), status="held")
    with db.writing(EVERY_ORGANISATION) as session:
        session.add(Minutes(meeting_id=other_held.id, status="correcting", correction_deadline=date(2025, 6, 20),
                            created_at=clock.now(), updated_at=clock.now()))

    mine = events(fetch(public, setup.member_url))
    comment = mine[f"deadline-public-comment-end-{in_comment.id}@shingi"]
    assert comment.decoded("DTSTART") == date(2025, 4, 30) and comment["DTSTART"].params["VALUE"] == "DATE"
    assert comment.decoded("DTEND") == date(2025, 5, 1)
    assert str(comment["SUMMARY"]).startswith("意見聴取期間終了")
    assert f"deadline-public-comment-end-{reviewed.id}@shingi" in mine  # its comment ended too
    correction = mine[f"deadline-minutes-correction-{minutes.id}@shingi"]
    assert correction.decoded("DTSTART") == date(2025, 6, 13)
    assert str(correction["SUMMARY"]) == f"会議録修正期限：第16期第2回 {REVIEWING_BODY}"
    assert str(mine[f"meeting-{held.id}@shingi"]["STATUS"]) == "CONFIRMED"
    # annual reviews and re-assessments are the secretariat's and the offices' business
    assert not [uid for uid in mine if "review" in uid or "reassessment" in uid]
    assert not any("見直し" in str(event["SUMMARY"]) or "再実施" in str(event["SUMMARY"]) for event in mine.values())
    assert f"deadline-public-comment-end-{elsewhere.id}@shingi" not in mine

    other = events(fetch(public, setup.other_member_url))
    assert set(other) == {f"meeting-{other_held.id}@shingi", f"deadline-public-comment-end-{elsewhere.id}@shingi",
                          f"deadline-minutes-correction-{_minutes_id(db, other_held.id)}@shingi"}


def _minutes_id(db, meeting_id: int) -> int:
    with db.reading(EVERY_ORGANISATION) as session:
        return session.exec(select(Minutes.id).where(Minutes.meeting_id == meeting_id)).one()


def test_a_withdrawn_case_has_no_deadline(public, db, clock, setup, make_case, fire):
    case = make_case("public_comment", body=REVIEWING_BODY)
    fire(case, "withdraw", reason="事務の廃止")
    assert f"deadline-public-comment-end-{case.id}@shingi" not in events(fetch(public, setup.member_url))


# --- the body's feed and the public one ---------------------------------------------------------

def test_a_body_feed_has_its_meetings_closed_ones_included_and_no_deadlines(public, db, clock, person, make_case):
    body = body_id(db)
    open_meeting = add_meeting(db, clock, body, 3)
    closed = add_meeting(db, clock, body, 4, NOON + timedelta(days=14), is_public=False)
    add_meeting(db, clock, body_id(db, OTHER_BODY), 1)
    make_case("public_comment", body=REVIEWING_BODY)
    issued = issue(public, person("secretariat"), body_id=body)
    assert issued["kind"] == "body" and issued["body_id"] == body
    assert path_of(issued["url"]).startswith("/feeds/bodies/")

    calendar = fetch(public, issued["url"])
    assert set(events(calendar)) == {f"meeting-{open_meeting.id}@shingi", f"meeting-{closed.id}@shingi"}
    assert str(events(calendar)[f"meeting-{closed.id}@shingi"]["CLASS"]) == "CONFIDENTIAL"
    assert REVIEWING_BODY in str(calendar["X-WR-CALNAME"])


def test_the_public_feed_has_public_meetings_only(public, db, clock, setup, make_case):
    open_meeting = add_meeting(db, clock, setup.body, 3, agenda=("全項目評価書の第三者点検について",))
    closed = add_meeting(db, clock, setup.body, 4, NOON + timedelta(days=14), is_public=False,
                         agenda=("非公開の議題",))
    make_case("public_comment", body=REVIEWING_BODY)

    response = public.get("/feeds/public.ics")
    assert response.status_code == 200 and response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert set(events(calendar)) == {f"meeting-{open_meeting.id}@shingi"}
    assert f"meeting-{closed.id}@shingi".encode() not in response.content and "非公開の議題".encode() not in response.content
    assert "公開" in str(calendar["X-WR-CALNAME"])
    assert events(calendar)[f"meeting-{open_meeting.id}@shingi"].decoded("DTSTART") == NOON
    assert public.head("/feeds/public.ics").status_code == 200


def test_an_empty_feed_is_still_a_calendar(public):
    calendar = fetch(public, "/feeds/public.ics")
    assert events(calendar) == {} and str(calendar["METHOD"]) == "PUBLISH"


# --- the secret URLs ----------------------------------------------------------------------------

def test_rotation_makes_the_old_url_404(public, db, clock, person, setup):
    add_meeting(db, clock, setup.body, 3)
    member = person("member")
    first = issue(public, member)
    assert public.get(path_of(first["url"])).status_code == 200
    rotated = public.post(f"/api/calendar-tokens/{first['id']}/rotate", headers=member.headers)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["id"] != first["id"] and second["url"] != first["url"]

    gone = public.get(path_of(first["url"]))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert len(events(fetch(public, second["url"]))) == 1
    # a revoked token cannot be rotated again
    assert public.post(f"/api/calendar-tokens/{first['id']}/rotate", headers=member.headers).status_code == 404


def test_unknown_and_mismatched_tokens_are_404_not_401(public, person, db, setup):
    body_url = issue(public, person("secretariat"), body_id=setup.body)["url"]
    member_token = path_of(setup.member_url).rsplit("/", 1)[1]
    body_token = path_of(body_url).rsplit("/", 1)[1]
    for path in ("/feeds/members/cal_nonsense.ics", "/feeds/bodies/cal_nonsense.ics", "/feeds/members/x.ics",
                 f"/feeds/bodies/{member_token}", f"/feeds/members/{body_token}",
                 "/feeds/members/" + "a" * 5000 + ".ics"):
        response = public.get(path)
        assert response.status_code == 404, path
        assert "www-authenticate" not in response.headers


def test_a_disabled_member_feed_is_404(public, db, clock, person, setup):
    accounts.disable_user(db, clock, person("member").email, SYSTEM)
    assert public.get(path_of(setup.member_url)).status_code == 404


def test_tokens_are_stored_hashed_and_audited(public, db, person, setup):
    member = person("member")
    issued = issue(public, member)
    token = path_of(issued["url"]).rsplit("/", 1)[1].removesuffix(".ics")
    assert token.startswith("cal_") and len(token) >= 40
    rotated = public.post(f"/api/calendar-tokens/{issued['id']}/rotate", headers=member.headers).json()
    new_token = path_of(rotated["url"]).rsplit("/", 1)[1].removesuffix(".ics")
    with db.reading(EVERY_ORGANISATION) as session:
        rows = {row.id: row for row in session.exec(select(CalendarToken)).all()}
        entries = session.exec(select(AuditEntry).where(AuditEntry.action.startswith("calendar_token."))
                               .order_by(AuditEntry.id)).all()
    assert rows[issued["id"]].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert rows[issued["id"]].revoked_at is not None and rows[rotated["id"]].revoked_at is None
    assert rows[rotated["id"]].user_id == rows[issued["id"]].user_id
    actions = [(entry.action, entry.object_id) for entry in entries]
    assert ("calendar_token.issued", str(issued["id"])) in actions
    assert ("calendar_token.rotated", str(rotated["id"])) in actions
    assert entries[-1].actor == member.email and entries[-1].detail["replaces"] == issued["id"]
    for entry in entries:
        text = str(entry.detail)
        assert token not in text and new_token not in text and rows[issued["id"]].token_hash not in text
    assert audit.verify(db, SYSTEM).ok


def test_service_functions_return_bytes(db, clock, workflows, person, setup):
    add_meeting(db, clock, setup.body, 3)
    issued = feeds.issue_token(db, clock, SYSTEM, body_id=setup.body)
    assert issued.path == f"/feeds/bodies/{issued.token}.ics"
    for content in (feeds.body_feed(db, clock, issued.token), feeds.public_feed(db, clock)):
        assert isinstance(content, bytes) and content.startswith(b"BEGIN:VCALENDAR")
    with pytest.raises(feeds.FeedNotFound):
        feeds.member_feed(db, clock, workflows, issued.token)
