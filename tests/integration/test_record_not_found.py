"""Every service that takes the id of a record answers an id with no row — unused, zero, negative, past
the column's range (workflow.columns.MAX_ID) or past any integer the database holds — with the one
RecordNotFound of that kind, naming the id it was given: never a database error.

Over HTTP the routes bound their path ids before a service runs (tests/api/test_existence.py); the
services are called from elsewhere too (the CLI, the scheduler, the demo), and answer alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from notifications import feeds, inbox
from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow import accounts, documents, findings, meetings, minutes, public_comments, resolutions, scheduled_events
from workflow import service as cases_service
from workflow.columns import MAX_ID
from workflow.errors import InvalidInput, Record, RecordNotFound
from workflow.findings import FindingAnswer, FindingClose, FindingReopen
from workflow.meetings import Cancellation, HeldMeeting, MeetingMove, NewMeeting
from workflow.minutes import ApplyCorrection, MinutesDraft, Passage, SendForCorrections
from workflow.public_comments import CommentResponse
from workflow.resolutions import OpinionInput

#: Ids no row has: in the column's range but unused, and the ones no row can have.
NO_ROW = (4242, 0, -1, MAX_ID + 1, 2**63, 10**30)

Call = Callable[[Any, int], Any]

#: service → (the kind of record its id names, how to call it with that id).
CALLS: dict[str, tuple[Record, Call]] = {
    "get assessment": (Record.CASE, lambda c, i: cases_service.get_assessment(c.db, i, SYSTEM)),
    "history": (Record.CASE, lambda c, i: cases_service.history(c.db, i, SYSTEM)),
    "advance": (Record.CASE, lambda c, i: cases_service.advance(c.db, c.workflows, c.clock, i, event="withdraw",
                                                                 expected_version=1, inputs={}, actor=SYSTEM)),
    "documents of a case": (Record.CASE, lambda c, i: documents.documents_of(c.db, i, SYSTEM)),
    "findings of a case": (Record.CASE, lambda c, i: findings.list_findings(c.db, i, SYSTEM)),
    "scheduled events of a case": (Record.CASE, lambda c, i: scheduled_events.of_case(c.db, i, SYSTEM)),
    "subcommittee report (paper)": (Record.CASE, lambda c, i: c.papers.subcommittee_report(i, SYSTEM)),
    "describe document": (Record.DOCUMENT, lambda c, i: documents.describe(c.db, i, SYSTEM)),
    "read document": (Record.DOCUMENT, lambda c, i: documents.read(c.db, c.files, c.clock, i, SYSTEM)),
    "get meeting": (Record.MEETING, lambda c, i: meetings.get_meeting(c.db, i, SYSTEM)),
    "move meeting": (Record.MEETING, lambda c, i: meetings.move(c.db, c.clock, i, MeetingMove(
        expected_version=1, venue="第2会議室"), SYSTEM)),
    "cancel meeting": (Record.MEETING, lambda c, i: meetings.cancel(c.db, c.clock, i, Cancellation(
        expected_version=1, reason="台風"), SYSTEM)),
    "record held": (Record.MEETING, lambda c, i: meetings.record_held(c.db, c.clock, i, HeldMeeting(
        expected_version=1), SYSTEM)),
    "convocation (paper)": (Record.MEETING, lambda c, i: c.papers.convocation(i, SYSTEM)),
    "read minutes": (Record.MEETING, lambda c, i: minutes.read(c.db, i, SYSTEM)),
    "draft minutes": (Record.MEETING, lambda c, i: minutes.draft(c.db, c.clock, i, MinutesDraft(
        passages=[Passage(speaker="部会長", text="開会します。")]), SYSTEM)),
    "answer finding": (Record.FINDING, lambda c, i: findings.answer_finding(c.db, c.clock, i, FindingAnswer(
        answer="回答"), SYSTEM)),
    "close finding": (Record.FINDING, lambda c, i: findings.close_finding(c.db, c.clock, i, FindingClose(), SYSTEM)),
    "reopen finding": (Record.FINDING, lambda c, i: findings.reopen_finding(c.db, c.clock, i, FindingReopen(
        reason="再確認"), SYSTEM)),
    "respond to a comment": (Record.PUBLIC_COMMENT, lambda c, i: public_comments.respond(
        c.db, c.clock, i, CommentResponse(response="考え方", no_change_reason="記載済み"), SYSTEM)),
    "adopt": (Record.RESOLUTION, lambda c, i: resolutions.adopt(c.db, c.clock, i, date(2025, 6, 1), "部会長", SYSTEM)),
    "delegate": (Record.RESOLUTION, lambda c, i: resolutions.delegate_to_chair(c.db, c.clock, i, "部会長", SYSTEM)),
    "revoke API token": (Record.API_TOKEN, lambda c, i: accounts.revoke_token(c.db, c.clock, i, SYSTEM)),
    "rotate calendar URL": (Record.CALENDAR_TOKEN, lambda c, i: feeds.rotate_token(c.db, c.clock, i, SYSTEM)),
    "issue a body's calendar URL": (Record.BODY, lambda c, i: feeds.issue_token(c.db, c.clock, SYSTEM, body_id=i)),
    "mark a notice read": (Record.NOTICE, lambda c, i: inbox.mark_read(c.db, c.member, i, c.clock.now())),
}


class Context:
    def __init__(self, core, member) -> None:
        self.db, self.workflows, self.clock, self.files = core.db, core.workflows, core.clock, core.files
        self.papers, self.member = core.papers, member


@pytest.mark.parametrize("record_id", NO_ROW)
@pytest.mark.parametrize("name", CALLS)
def test_a_record_that_is_not_there_is_not_found_by_its_id(core, member, name, record_id):
    kind, call = CALLS[name]
    with pytest.raises(RecordNotFound) as missing:
        call(Context(core, member), record_id)
    assert (missing.value.record, missing.value.record_id, missing.value.code) == (kind, record_id, "not_found")
    assert missing.value.message == RecordNotFound(kind, record_id).message


@pytest.mark.parametrize("correction_id", NO_ROW)
def test_a_correction_that_is_not_there_is_not_found_by_its_id(db, clock, make_case, correction_id):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    record = meetings.schedule(db, clock, NewMeeting(
        body=REVIEWING_BODY, term="第8期", starts_at=clock.now().replace(day=1), venue="市政情報室",
        agenda=[{"assessment_id": case.id, "purpose": "third_party_review", "title": "第三者点検"}]), SYSTEM)
    meeting_id = record.meeting.id
    meetings.record_held(db, clock, meeting_id, HeldMeeting(expected_version=1), SYSTEM)
    minutes.draft(db, clock, meeting_id, MinutesDraft(passages=[Passage(speaker="部会長", text="開会します。")]), SYSTEM)
    minutes.send_for_corrections(db, clock, meeting_id, SendForCorrections(deadline=date(2025, 6, 16)), SYSTEM)
    with pytest.raises(RecordNotFound) as missing:
        minutes.apply_correction(db, clock, meeting_id, correction_id, ApplyCorrection(passage_index=0), SYSTEM)
    assert (missing.value.record, missing.value.record_id) == (Record.CORRECTION, correction_id)


def test_minutes_not_drafted_are_not_found_by_their_meeting(db, clock, make_case):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    record = meetings.schedule(db, clock, NewMeeting(
        body=REVIEWING_BODY, term="第8期", starts_at=clock.now().replace(day=1), venue="市政情報室",
        agenda=[{"assessment_id": case.id, "purpose": "third_party_review", "title": "第三者点検"}]), SYSTEM)
    with pytest.raises(RecordNotFound) as missing:
        minutes.read(db, record.meeting.id, SYSTEM)
    assert (missing.value.record, missing.value.record_id) == (Record.MINUTES, record.meeting.id)
    with pytest.raises(RecordNotFound) as missing:
        minutes.send_for_corrections(db, clock, record.meeting.id, SendForCorrections(deadline=date(2025, 6, 16)),
                                     SYSTEM)
    assert (missing.value.record, missing.value.record_id) == (Record.MINUTES, record.meeting.id)


@pytest.mark.parametrize("meeting_id", [4242, MAX_ID])
def test_an_opinion_naming_a_meeting_that_is_not_there_is_refused(db, clock, make_case, meeting_id):
    """Not left to the foreign key (an internal error): the field and the words of a missing meeting."""
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    with pytest.raises(InvalidInput) as refused:
        resolutions.record_opinion(db, clock, case.id, OpinionInput(
            verdict="appropriate", decided_on=date(2025, 6, 1), meeting_id=meeting_id), SYSTEM)
    (problem,) = refused.value.problems
    assert (problem.field, problem.rule, problem.message) == ("meeting_id", "exists",
                                                              RecordNotFound(Record.MEETING, meeting_id).message)
