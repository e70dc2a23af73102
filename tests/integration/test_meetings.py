"""Meetings in the service: attendance linked to accounts and the quorum; numbering per body and term;
stale versions; every status × step, the illegal ones too; materials; the audit trail; and writes
racing at once (tests/api/test_meetings.py: over HTTP)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers.meetings import (
    FUKUOKA,
    PDF,
    RACERS,
    TOPIC,
    VENUE,
    attach,
    new_meeting,
    race,
    schedule,
    tokyo,
)
from tests.helpers.people import OTHER_BODY, REVIEWING_BODY, SYSTEM
from workflow import audit, documents, lifecycle, meetings
from workflow.accounts import body_by_name
from workflow.clock import TOKYO
from workflow.documents import Upload
from workflow.errors import Conflict, InvalidInput, StaleVersion
from workflow.lifecycle import MEETING
from workflow.meetings import AttendeeInput, Cancellation, HeldMeeting, MeetingMove, NextMeeting
from workflow.models import Body
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Classification
from workflow.records import Meeting

# --- attendance and the quorum ----------------------------------------------------------------

def test_members_are_linked_by_name_whatever_the_spacing_and_titles(db, clock, fukuoka):
    record = schedule(db, clock, FUKUOKA)
    record = meetings.set_attendance(db, clock, record.meeting.id, meetings.AttendanceUpdate(
        expected_version=record.meeting.version,
        attendance=[AttendeeInput(name="小林　登 部会長", role="chair"), AttendeeInput(name="井上真由美", role="member"),
                    AttendeeInput(name="櫻井 幸一", role="member", present=False),
                    AttendeeInput(name="多賀谷一照", role="member")]), SYSTEM)
    linked = {row.name: row.user_id is not None for row in record.attendance}
    assert linked == {"小林　登 部会長": True, "井上真由美": True, "櫻井 幸一": True, "多賀谷一照": False}
    # Present members (the absent one and anyone's role outside the body do not count): 3 of 5 seats.
    assert (record.quorum.present, record.quorum.required, record.quorum.met) == (3, 3, True)


def test_the_quorum_follows_the_body_or_a_majority(db, clock, fukuoka):
    record = schedule(db, clock, FUKUOKA)
    two = [AttendeeInput(name="小林 登", role="chair"), AttendeeInput(name="山元 規靖", role="member"),
           AttendeeInput(name="事務局 担当", role="secretariat"), AttendeeInput(name="参考 人", role="reference")]
    record = meetings.set_attendance(db, clock, record.meeting.id, meetings.AttendanceUpdate(
        expected_version=record.meeting.version, attendance=two), SYSTEM)
    assert (record.quorum.required, record.quorum.present, record.quorum.met) == (3, 2, False)
    with db.writing(EVERY_ORGANISATION) as session:
        session.get(Body, fukuoka.body.id).quorum = 2
    quorum = meetings.quorum(db, record.meeting.id, SYSTEM)
    assert (quorum.required, quorum.present, quorum.met, quorum.basis) == (2, 2, True, "body")


# --- numbering ----------------------------------------------------------------------------------

def test_numbers_count_per_body_and_term(db, clock):
    assert [schedule(db, clock).meeting.number for _ in range(3)] == [1, 2, 3]
    assert schedule(db, clock, term="第17期").meeting.number == 1
    assert schedule(db, clock, body=OTHER_BODY).meeting.number == 1
    assert schedule(db, clock, number=7).meeting.number == 7
    assert schedule(db, clock).meeting.number == 8


def test_the_next_meeting_cannot_take_a_number_already_scheduled(db, clock):
    second = schedule(db, clock, number=2)
    schedule(db, clock, number=3)
    with pytest.raises(Conflict):
        meetings.schedule_next(db, clock, second.meeting.id, NextMeeting(starts_at=tokyo(2023, 12, 21, 10)), SYSTEM)


def test_the_next_meeting_keeps_closed_and_its_reason(db, clock):
    closed = schedule(db, clock, is_public=False, closed_reason="個人情報を含む事項を審議するため")
    following = meetings.schedule_next(db, clock, closed.meeting.id, NextMeeting(starts_at=tokyo(2023, 12, 21, 10)),
                                       SYSTEM)
    assert (following.meeting.is_public, following.meeting.closed_reason) == (False, "個人情報を含む事項を審議するため")
    assert (following.meeting.venue, following.meeting.number) == (VENUE, closed.meeting.number + 1)


# --- versions -----------------------------------------------------------------------------------

def test_a_write_that_loses_the_race_is_a_stale_version(db, clock):
    """Two writers read version 1; the second one's UPDATE … WHERE version = 1 changes no row."""
    record = schedule(db, clock)
    with db.reading(EVERY_ORGANISATION) as session:
        seen = session.get(Meeting, record.meeting.id)
    meetings.move(db, clock, record.meeting.id, MeetingMove(expected_version=1, venue="特8会議室"), SYSTEM)
    with pytest.raises(StaleVersion), db.writing(EVERY_ORGANISATION) as session:
        session.add(seen)
        seen.venue = "特7会議室"
        meetings._flush(session)
    assert meetings.get_meeting(db, record.meeting.id, SYSTEM).meeting.venue == "特8会議室"


#: Meeting status × step: which are possible (the rest answer 409).
@pytest.mark.parametrize("status", ["scheduled", "held", "cancelled"])
@pytest.mark.parametrize("step", list(MEETING.events))
def test_every_status_and_step(db, clock, files, make_case, status, step):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    record = schedule(db, clock, agenda=[{"assessment_id": case.id, "purpose": "third_party_review", "title": TOPIC}])
    if status == "held":
        record = meetings.record_held(db, clock, record.meeting.id, HeldMeeting(expected_version=1), SYSTEM)
    if status == "cancelled":
        record = meetings.cancel(db, clock, record.meeting.id, Cancellation(expected_version=1, reason="中止"), SYSTEM)
    version, meeting_id = record.meeting.version, record.meeting.id
    document = attach(db, files, clock, case, "評価書")
    calls = {
        "move": lambda: meetings.move(db, clock, meeting_id, MeetingMove(expected_version=version, venue="別室"), SYSTEM),
        "cancel": lambda: meetings.cancel(db, clock, meeting_id, Cancellation(expected_version=version, reason="x"),
                                          SYSTEM),
        "hold": lambda: meetings.record_held(db, clock, meeting_id, HeldMeeting(expected_version=version), SYSTEM),
        "record_attendance": lambda: meetings.set_attendance(db, clock, meeting_id, meetings.AttendanceUpdate(
            expected_version=version, attendance=[AttendeeInput(name="委員A", role="member")]), SYSTEM),
        "link_material": lambda: meetings.link_material(db, clock, meeting_id, meetings.MaterialInput(
            document_id=document.id, label="資料1"), SYSTEM),
        "schedule_next": lambda: meetings.schedule_next(db, clock, meeting_id, NextMeeting(
            starts_at=tokyo(2023, 12, 21, 10)), SYSTEM),
    }
    if status in MEETING.events[step].sources:
        calls[step]()
    else:
        with pytest.raises(Conflict) as refused:
            calls[step]()
        assert refused.value.allowed_events == lifecycle.allowed(MEETING, status)
        assert meetings.get_meeting(db, meeting_id, SYSTEM).meeting.version == version


# --- materials ----------------------------------------------------------------------------------

def test_materials_given_when_scheduling(db, clock, files, make_case):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    paper = attach(db, files, clock, case, "評価書")
    record = schedule(db, clock, agenda=[{"assessment_id": case.id, "purpose": "third_party_review", "title": TOPIC}],
                      materials=[{"document_id": paper.id, "label": "資料1"}])
    assert [(m.id, m.label, m.meeting_id) for m in record.materials] == [(paper.id, "資料1", record.meeting.id)]
    with pytest.raises(InvalidInput) as refused:
        schedule(db, clock, materials=[{"document_id": paper.id, "label": "資料1"}])
    assert [(p.field, p.rule) for p in refused.value.problems] == [("materials.0.document_id", "case_on_agenda")]


def test_uploading_a_material_reuses_the_case_documents(db, clock, files, make_case):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    record = schedule(db, clock, agenda=[{"assessment_id": case.id, "purpose": "third_party_review", "title": TOPIC}])
    upload = Upload("ログのイメージ", "log.pdf", PDF, Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW)
    record = meetings.attach_material(db, files, clock, record.meeting.id, case.id, upload, "資料2", SYSTEM, 10**6)
    [material] = record.materials
    assert (material.label, material.classification, material.assessment_id) == (
        "資料2", "members_only_delete_after_review", case.id)
    assert [d.id for d in documents.documents_of(db, case.id, SYSTEM)] == [material.id]
    with pytest.raises(InvalidInput):  # refused before anything is stored
        meetings.attach_material(db, files, clock, record.meeting.id, case.id, upload, "資料2", SYSTEM, 10**6)
    assert len(documents.documents_of(db, case.id, SYSTEM)) == 1


# --- the audit trail ----------------------------------------------------------------------------

def test_every_change_is_audited(db, clock, files, make_case):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    paper = attach(db, files, clock, case, "評価書")
    record = schedule(db, clock, agenda=[{"assessment_id": case.id, "purpose": "third_party_review", "title": TOPIC}])
    record = meetings.move(db, clock, record.meeting.id, MeetingMove(expected_version=1, venue="特8会議室"), SYSTEM)
    meetings.link_material(db, clock, record.meeting.id, meetings.MaterialInput(document_id=paper.id, label="資料1"),
                           SYSTEM)
    record = meetings.set_attendance(db, clock, record.meeting.id, meetings.AttendanceUpdate(
        expected_version=2, attendance=[AttendeeInput(name="委員A", role="member")]), SYSTEM)
    record = meetings.record_held(db, clock, record.meeting.id, HeldMeeting(expected_version=3, observers=1), SYSTEM)
    following = meetings.schedule_next(db, clock, record.meeting.id, NextMeeting(starts_at=tokyo(2023, 12, 21, 10)),
                                       SYSTEM)
    meetings.cancel(db, clock, following.meeting.id, Cancellation(expected_version=1, reason="中止"), SYSTEM)
    actions = [(e.action, e.object_id) for e in audit.entries(db, SYSTEM, limit=1000) if e.object_type == "meeting"]
    first, second = str(record.meeting.id), str(following.meeting.id)
    assert sorted(actions) == sorted([
        ("meeting.scheduled", first), ("meeting.moved", first), ("meeting.material_linked", first),
        ("meeting.attendance_recorded", first), ("meeting.held", first), ("meeting.scheduled", second),
        ("meeting.cancelled", second)])
    assert audit.verify(db, SYSTEM).ok


def test_refusals_change_nothing(db, clock):
    record = schedule(db, clock)
    before = len(audit.entries(db, SYSTEM, limit=1000))
    with pytest.raises(StaleVersion):
        meetings.move(db, clock, record.meeting.id, MeetingMove(expected_version=9, venue="別室"), SYSTEM)
    with pytest.raises(InvalidInput):
        meetings.move(db, clock, record.meeting.id, MeetingMove(expected_version=1, ends_at=tokyo(2023, 11, 16, 9)),
                      SYSTEM)
    assert len(audit.entries(db, SYSTEM, limit=1000)) == before
    assert meetings.get_meeting(db, record.meeting.id, SYSTEM).meeting.version == 1


def test_the_body_may_be_named_and_is_then_found(db, clock):
    record = schedule(db, clock)
    with db.reading(EVERY_ORGANISATION) as session:
        assert record.body.id == body_by_name(session, REVIEWING_BODY).id
    with pytest.raises(InvalidInput) as refused:
        meetings.schedule(db, clock, new_meeting(body="別の名前", body_id=record.body.id), SYSTEM)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("body", "matches_body_id")]
    assert record.meeting.starts_at.astimezone(TOKYO) == tokyo(2023, 11, 16, 10)
    assert record.meeting.ends_at - record.meeting.starts_at == timedelta(minutes=90)


# --- concurrency --------------------------------------------------------------------------------

def test_of_moves_racing_with_one_version_exactly_one_wins(db, clock):
    record = schedule(db, clock)
    outcomes = race([
        (lambda n=n: meetings.move(db, clock, record.meeting.id, MeetingMove(expected_version=1, venue=f"第{n}会議室"),
                                   SYSTEM)) for n in range(RACERS)])
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1
    assert all(isinstance(o, StaleVersion) for o in outcomes if o not in winners)
    after = meetings.get_meeting(db, record.meeting.id, SYSTEM).meeting
    assert (after.venue, after.sequence, after.version) == (winners[0].meeting.venue, 1, 2)


def test_meetings_scheduled_at_once_get_one_number_each(db, clock):
    outcomes = race([lambda: schedule(db, clock) for _ in range(RACERS)])
    assert sorted(o.meeting.number for o in outcomes) == list(range(1, RACERS + 1))
