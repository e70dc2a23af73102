"""Members-only material (委員限り) in every generated document: a paper names a material only to those
the policy lets know of it (`policy.can_know_document`), whoever asks and whichever paper it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlmodel import select

from notifications.formats import Paper
from notifications.papers import Papers
from tests.helpers.meetings import attach
from tests.helpers.papers import docx_text
from tests.helpers.people import REVIEWING_BODY, ROLES, SYSTEM
from workflow import meetings
from workflow.clock import TOKYO
from workflow.errors import NotFound
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import ANONYMOUS, Actor, Classification, DomainError, can_know_document

TITLES = {
    Classification.PUBLIC: "公開資料・評価書の概要",
    Classification.MEMBERS_ONLY: "委員限り・システム構成図",
    Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW: "点検後削除・リスク対策の詳細",
}

#: Every paper, by what it is about.
MEETING_PAPERS: dict[str, Callable[[Papers, int, Actor], Paper]] = {
    "convocation": Papers.convocation, "meeting_result": Papers.meeting_result}
CASE_PAPERS: dict[str, Callable[[Papers, int, Actor], Paper]] = {
    "subcommittee_report": Papers.subcommittee_report, "reply": Papers.reply, "findings": Papers.findings,
    "public_comment_result": Papers.public_comment_result}



@pytest.fixture
def world(db, clock, files, make_case, user_actor):
    """A case under review with one material of each classification, handed out at a public meeting."""
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    meeting = meetings.schedule(db, clock, meetings.NewMeeting(
        body=REVIEWING_BODY, term="第16期", starts_at=datetime(2025, 6, 20, 10, tzinfo=TOKYO), venue="特9会議室",
        agenda=[meetings.AgendaItemInput(assessment_id=case.id, purpose="third_party_review", title="第三者点検")]),
        SYSTEM).meeting
    documents = {}
    for number, (classification, title) in enumerate(TITLES.items(), start=1):
        document = attach(db, files, clock, case, title, classification)
        meetings.link_material(db, clock, meeting.id, meetings.MaterialInput(document_id=document.id,
                                                                             label=f"資料{number}"), SYSTEM)
        documents[classification] = document
    actors = {role: user_actor(f"{role} テスト", **account) for role, account in ROLES.items()}
    return case, meeting, documents, {"public": ANONYMOUS, "system": SYSTEM, **actors}


def _texts(paper: Paper) -> tuple[str, str]:
    return paper.html, docx_text(paper.docx())


@pytest.mark.parametrize("role", ["public", "secretariat", "chair", "member", "other_member", "office",
                                  "other_office", "admin", "system"])
def test_no_paper_names_material_its_reader_may_not_know_of(world, core, role):
    case, meeting, documents, actors = world
    actor = actors[role]
    written = 0
    for subject, kinds in ((meeting.id, MEETING_PAPERS), (case.id, CASE_PAPERS)):
        for kind, write in kinds.items():
            try:
                paper = write(core.papers, subject, actor)
            except (NotFound, DomainError):
                continue  # the reader may not read this paper at all: nothing is named
            written += 1
            for text in _texts(paper):
                for classification, document in documents.items():
                    named = TITLES[classification] in text
                    if not can_know_document(actor, case, document):
                        assert not named, (kind, classification.value)
    if role in ("secretariat", "chair", "member", "system"):
        convocation = core.papers.convocation(meeting.id, actor)
        assert all(title in convocation.html for title in TITLES.values())  # those who may, see all three
    assert written or role in ("public", "other_member", "other_office")


def test_the_convocation_shows_the_office_the_public_material_only_and_the_public_none(world, core):
    """The office reads its case's public documents, not members-only ones; the public does not know of
    a case under review, so none of its materials."""
    _case, meeting, _documents, actors = world
    for text in _texts(core.papers.convocation(meeting.id, actors["office"])):
        assert TITLES[Classification.PUBLIC] in text
        assert TITLES[Classification.MEMBERS_ONLY] not in text
        assert TITLES[Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW] not in text
    for text in _texts(core.papers.convocation(meeting.id, ANONYMOUS)):
        assert not any(title in text for title in TITLES.values())


def test_materials_are_listed_in_label_order(db, clock, files, make_case, core):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    meeting = meetings.schedule(db, clock, meetings.NewMeeting(
        body=REVIEWING_BODY, term="第16期", starts_at=datetime(2025, 6, 20, 10, tzinfo=TOKYO), venue="特9会議室",
        agenda=[meetings.AgendaItemInput(assessment_id=case.id, purpose="third_party_review", title="第三者点検")]),
        SYSTEM).meeting
    for label in ("資料10", "参考資料1", "資料2", "資料3-1"):
        document = attach(db, files, clock, case, f"{label}の内容")
        meetings.link_material(db, clock, meeting.id, meetings.MaterialInput(document_id=document.id, label=label),
                               SYSTEM)
    html = core.papers.convocation(meeting.id, SYSTEM).html
    positions = [html.index(f"{label}の内容") for label in ("資料2", "資料3-1", "資料10", "参考資料1")]
    assert positions == sorted(positions)


# --- notices: an e-mail cannot be taken back ----------------------------------------------------

@pytest.mark.parametrize("role", ["secretariat", "chair", "member", "other_member", "office", "other_office",
                                  "admin"])
def test_a_meeting_notice_names_the_materials_its_recipient_may_know_of(world, db, workflows, reminder_rules, role):
    """Whoever the secretariat chooses to remind: confidential material only to those who may know it, and
    material deleted after the review by its label alone, for everyone (the notice outlives the purge)."""
    from notifications.messages import ReminderRenderer
    from notifications.models import Reminder, ReminderRule

    case, meeting, documents, actors = world
    reader = actors[role]
    with db.reading(EVERY_ORGANISATION) as session:
        rule = session.exec(select(ReminderRule).where(ReminderRule.key == "meeting_start_7d")).one()
        reminder = Reminder(id=1, rule_key=rule.key, subject_type="meeting", subject_id=meeting.id,
                            user_id=reader.user_id, fact_at=meeting.starts_at, due_at=meeting.starts_at)
        rendered = ReminderRenderer(session, workflows, None).rendered(reminder, rule, meeting.starts_at)
    for text in (rendered.text, rendered.html):
        assert TITLES[Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW] not in text
        for classification, document in documents.items():
            knows = can_know_document(reader, case, document)
            named = f"資料{list(TITLES).index(classification) + 1}（委員限り・点検後削除）" if classification is \
                Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW else TITLES[classification]
            assert (named in text) is knows, (role, classification)


def test_one_rendering_is_shared_only_by_recipients_who_may_know_the_same(world, db, workflows, reminder_rules):
    from notifications.messages import ReminderRenderer
    from notifications.models import Reminder, ReminderRule

    _case, meeting, _documents, actors = world
    with db.reading(EVERY_ORGANISATION) as session:
        rule = session.exec(select(ReminderRule).where(ReminderRule.key == "meeting_start_7d")).one()
        renderer = ReminderRenderer(session, workflows, None)
        texts = {role: renderer.rendered(Reminder(id=number, rule_key=rule.key, subject_type="meeting",
                                                  subject_id=meeting.id, user_id=actors[role].user_id,
                                                  fact_at=meeting.starts_at, due_at=meeting.starts_at),
                                         rule, meeting.starts_at).text
                 for number, role in enumerate(("member", "office", "chair"), start=1)}
    assert TITLES[Classification.MEMBERS_ONLY] in texts["member"] and TITLES[Classification.MEMBERS_ONLY] in texts["chair"]
    assert TITLES[Classification.MEMBERS_ONLY] not in texts["office"]


def test_the_recipients_of_a_batch_are_read_together(world, db, workflows, reminder_rules, user_actor):
    """Choosing each recipient's materials costs two queries for the whole batch, not two per person."""
    from sqlalchemy import event

    from notifications.messages import ReminderRenderer
    from notifications.models import Reminder, ReminderRule

    _case, meeting, _documents, _actors = world
    members = [user_actor(f"委員{n}", roles={"member"}, bodies={REVIEWING_BODY: "member"}) for n in range(30)]
    reads: list[str] = []

    def seen(_connection, _cursor, statement, *_):
        if "FROM user_account" in statement or "FROM membership" in statement:
            reads.append(statement)

    with db.reading(EVERY_ORGANISATION) as session:
        rule = session.exec(select(ReminderRule).where(ReminderRule.key == "meeting_start_7d")).one()
        renderer = ReminderRenderer(session, workflows, None, users={member.user_id for member in members})
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            texts = [renderer.rendered(Reminder(id=number, rule_key=rule.key, subject_type="meeting",
                                                subject_id=meeting.id, user_id=member.user_id,
                                                fact_at=meeting.starts_at, due_at=meeting.starts_at),
                                       rule, meeting.starts_at).text for number, member in enumerate(members, start=1)]
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
    assert all(TITLES[Classification.MEMBERS_ONLY] in text for text in texts)
    assert len(reads) <= 3, reads  # the recipients with their offices, their seats (and the names)
