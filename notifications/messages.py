"""From a due reminder (or a changed meeting) to the notices it causes: the facts are gathered from
the records, rendered with the notice templates (notifications.notices), and written as Notice rows:
the in-app inbox one delivered at once, the e-mail one left in the outbox for the sender."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from notifications import notices
from notifications.channels import DELIVERED_ON_WRITE
from notifications.models import Notice, Reminder, ReminderRule
from states.definition import StateSpec
from workflow.accounts import actor_for, actors_for
from workflow.clock import TOKYO
from workflow.columns import stored_id
from workflow.documents import material_order
from workflow.engine import Workflows
from workflow.models import Assessment, Body, Document, UserAccount
from workflow.policy import Actor, Classification, can_know_document
from workflow.records import AgendaItem, Finding, Meeting, Minutes


def meeting_facts(session: Session, meeting: Meeting, reader: Actor | None) -> dict[str, Any]:
    """The notice templates' `meeting` variable, from the record, with the materials `reader` may know of
    (None: a meeting without materials, whoever reads it)."""
    body = session.get(Body, meeting.body_id)
    council = session.get(Body, body.parent_id) if body and body.parent_id else None
    agenda = session.exec(select(AgendaItem.title).where(AgendaItem.meeting_id == meeting.id)
                          .order_by(col(AgendaItem.position))).all()
    body_name = body.name if body else ""
    if council is not None and body_name.startswith(council.name):
        body_name = body_name[len(council.name):].strip()  # "審議会 第二部会" → the council named apart
    return notices.meeting_facts(
        council=council.name if council else None, body=body_name, term=meeting.term, number=meeting.number,
        starts_at=meeting.starts_at.astimezone(TOKYO),
        ends_at=meeting.ends_at.astimezone(TOKYO) if meeting.ends_at else None, venue=meeting.venue,
        agenda=list(agenda), is_public=meeting.is_public,
        materials=[] if reader is None else [_material(document) for document, case in meeting_materials(session, meeting)
                                             if can_know_document(reader, case, document)],
    )


def meeting_materials(session: Session, meeting: Meeting) -> list[tuple[Document, Assessment]]:
    """The meeting's materials with their cases, in the order they are numbered (資料1, 資料2, 資料10 …)."""
    rows = session.exec(select(Document, Assessment).join(Assessment, col(Assessment.id) == Document.assessment_id)
                        .where(Document.meeting_id == meeting.id)).all()
    return sorted(((document, case) for document, case in rows),
                  key=lambda row: (material_order(row[0].label), row[0].id or 0))


def _material(document: Document) -> notices.Material:
    classification = Classification(document.classification)
    if classification is Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW:
        return notices.Material(document.label or "", "", members_only=True, deleted_after_review=True)
    return notices.Material(document.label or "", document.title, classification.confidential)


def _case(case: Assessment) -> dict[str, Any]:
    return notices.case_facts(title=case.title, office=case.office)


#: The rows a reminder can be about.
Subject = Meeting | Assessment | Minutes | Finding
_TABLES: dict[str, type[Subject]] = {"meeting": Meeting, "assessment": Assessment, "minutes": Minutes,
                                     "finding": Finding}
_SubjectT = TypeVar("_SubjectT", Meeting, Assessment, Minutes, Finding)
_T = TypeVar("_T")


def _about(model: type[_SubjectT], row: Subject | None, kind: str) -> _SubjectT:
    """The row a notice of this kind is about, which must be a `model` (a rule names its subject and template)."""
    if not isinstance(row, model):
        raise ValueError(f"a {kind} notice is about a {model.__name__}, not {row!r}")
    return row


def _fact(value: _T | None, kind: str) -> _T:
    """A fact the notice states; a due reminder's subject has it (without it the reminder is withdrawn)."""
    if value is None:
        raise ValueError(f"a {kind} notice without its fact")
    return value


class ReminderRenderer:
    """Renders the notices of many reminders in one transaction, reading each subject once."""

    def __init__(self, session: Session, workflows: Workflows, templates_dir: Path | None,
                 users: set[int] | None = None):
        self.session = session
        #: The secretariat's own notice templates (notices/*.j2), used before the shipped ones.
        self.templates_dir = templates_dir
        #: The procedures in force (the secretariat's own included): their titles and target days.
        self.workflows = workflows
        self._subjects: dict[tuple[str, int], Subject] = {}
        self._facts: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._materials: dict[int, list[tuple[Document, Assessment]]] = {}
        self._readers: dict[int, Actor | None] = {}
        #: The batch's recipients, whose actors are read together when a meeting's materials need them.
        self._users: set[int] = set(users or ())
        self._rendered: dict[tuple[Any, ...], Any] = {}
        self._names: dict[int, str | None] = {}
        if users:
            names = session.exec(select(UserAccount.id, UserAccount.display_name)
                                 .where(col(UserAccount.id).in_(users))).all()
            self._names = {user_id: name for user_id, name in names if user_id is not None}  # ids are never NULL

    def _reader(self, user_id: int) -> Actor | None:
        """The recipient as the policy sees them (what they may know of a meeting's materials): the
        batch's recipients are read together, the first time one is asked for."""
        if user_id not in self._readers:
            wanted = (self._users - set(self._readers)) | {user_id}
            found = actors_for(self.session, wanted)
            self._readers.update({user: found.get(user) for user in wanted})
        return self._readers[user_id]

    def _meeting_of(self, reminder: Reminder) -> Meeting | None:
        row = self.subject(reminder.subject_type, reminder.subject_id)
        if isinstance(row, Minutes):
            row = self.subject("meeting", row.meeting_id)
        return row if isinstance(row, Meeting) else None

    def _materials_of(self, meeting: Meeting) -> list[tuple[Document, Assessment]]:
        key = stored_id(meeting)
        if key not in self._materials:
            self._materials[key] = meeting_materials(self.session, meeting)
        return self._materials[key]

    def _has_materials(self, meeting: Meeting) -> bool:
        return bool(self._materials_of(meeting))

    def _known_materials(self, meeting: Meeting, reader: Actor) -> tuple[int, ...]:
        """The meeting's materials the reader may know of: those who may know the same share one rendering."""
        return tuple(stored_id(document) for document, case in self._materials_of(meeting)
                     if can_know_document(reader, case, document))

    def _meeting(self, meeting: Meeting, reader: Actor | None) -> dict[str, Any]:
        """The meeting's facts; without a reader, the meeting has no materials to choose among."""
        known = self._known_materials(meeting, reader) if reader is not None else ()
        key = ("meeting", stored_id(meeting), known)
        if key not in self._facts:
            self._facts[key] = meeting_facts(self.session, meeting, reader)
        return self._facts[key]

    def subject(self, subject_type: str, subject_id: int) -> Subject | None:
        key = (subject_type, subject_id)
        if key not in self._subjects:
            row = self.session.get(_TABLES[subject_type], subject_id)
            if not isinstance(row, Subject):  # None: the row is gone
                return None
            self._subjects[key] = row
        return self._subjects[key]

    def context(self, kind: str, reminder: Reminder, common: notices.Common,
                reader: Actor | None) -> dict[str, Any] | None:
        row = self.subject(reminder.subject_type, reminder.subject_id)
        if row is None:
            return None
        session = self.session
        if kind == "meeting_reminder":
            return notices.meeting_reminder(self._meeting(_about(Meeting, row, kind), reader), common=common)
        if kind == "minutes_correction":
            minutes = _about(Minutes, row, kind)
            meeting = _about(Meeting, self.subject("meeting", minutes.meeting_id), kind)
            return notices.minutes_correction(self._meeting(meeting, reader),
                                              correction_due=_fact(minutes.correction_deadline, kind),
                                              common=common)
        if kind == "finding_unanswered":
            finding = _about(Finding, row, kind)
            case = _about(Assessment, session.get(Assessment, finding.assessment_id), kind)
            question = notices.Question(finding.text, finding.raised_on, finding.raised_by)
            return notices.finding_unanswered(_case(case), questions=[question],
                                              answer_due=reminder.fact_at.astimezone(TOKYO).date(), common=common)
        case = _about(Assessment, row, kind)
        if kind == "public_comment_closing":
            return notices.public_comment_closing(_case(case), comment_start=_fact(case.comment_start, kind),
                                                  comment_end=_fact(case.comment_end, kind), common=common)
        if kind == "annual_review_due":
            return notices.annual_review_due(_case(case), review_due=_fact(case.annual_review_due, kind),
                                             published_on=case.published_on, common=common)
        if kind == "reassessment_due":
            return notices.reassessment_due(_case(case), reassessment_due=_fact(case.reassessment_due, kind),
                                            published_on=case.published_on, common=common)
        state = self._state(case)
        if kind == "planned_holding_date":
            return notices.planned_holding_date(_case(case),
                                                planned_holding_date=_fact(case.planned_holding_date, kind),
                                                state_title=state.title.ja if state else case.state, common=common)
        if kind == "state_overdue":
            return notices.state_overdue(
                _case(case), state_title=state.title.ja if state else case.state,
                state_entered_on=case.state_entered_at.astimezone(TOKYO).date(),
                target_days=(state.target_days if state and state.target_days else 0), common=common)
        raise ValueError(f"no context for notice kind {kind!r}")

    def _state(self, case: Assessment) -> StateSpec | None:
        procedure = self.workflows.procedures.get(case.procedure)
        return procedure.states.get(case.state) if procedure else None

    def rendered(self, reminder: Reminder, rule: ReminderRule, now: datetime) -> Any:
        """The notice for this reminder's recipient. Everyone reminded of one subject by one rule who may
        know the same materials gets the same text but for the greeting, so it is rendered once with a
        stand-in name and the recipient's name is put in its place (escaped for the HTML part)."""
        late = now - reminder.due_at > notices.LATE_AFTER
        meeting = self._meeting_of(reminder)
        reader: Actor | None = None
        if meeting is not None and self._has_materials(meeting):  # only then does the reader matter
            reader = self._reader(reminder.user_id)
            if reader is None:  # the account is gone: nobody to tell
                return None
        known = self._known_materials(meeting, reader) if meeting is not None and reader is not None else ()
        key = (rule.key, reminder.subject_type, reminder.subject_id, reminder.fact_at, reminder.due_at, late, known)
        if key not in self._rendered:
            common = notices.Common.due(reminder.due_at.astimezone(TOKYO), now, custom_message=rule.custom_message,
                                        recipient_name=STAND_IN)
            context = self.context(rule.template, reminder, common, reader)
            self._rendered[key] = None if context is None else notices.render(rule.template, context,
                                                                                  templates_dir=self.templates_dir)
        template = self._rendered[key]
        if template is None:
            return None
        if reminder.user_id not in self._names:
            recipient = self.session.get(UserAccount, reminder.user_id)
            self._names[reminder.user_id] = recipient.display_name if recipient else None
        return personalise(template, self._names[reminder.user_id])

    def notices(self, reminder: Reminder, rule: ReminderRule, now: datetime) -> list[dict[str, Any]]:
        rendered = self.rendered(reminder, rule, now)
        if rendered is None:
            return []
        key = f"reminder:{reminder.id}:{reminder.fact_at.isoformat()}"
        return build(key, reminder.user_id, "reminder", rendered, rule.channels, reminder.due_at, now,
                     reminder_id=reminder.id)


#: Stands for the recipient's name while a shared notice is rendered (plain letters: nothing escapes them).
STAND_IN = "QQRECIPIENTQQ"


def personalise(rendered: notices.RenderedNotice, name: str | None) -> notices.RenderedNotice:
    """Put the recipient's name where the stand-in is; without a name, render as 関係者各位 would be
    rendered: the caller passes None only when the account is gone, so the stand-in is simply dropped."""
    plain = name or ""
    return type(rendered)(subject=rendered.subject.replace(STAND_IN, plain),
                          text=rendered.text.replace(STAND_IN, plain),
                          html=rendered.html.replace(STAND_IN, html.escape(plain)) if rendered.html else rendered.html)


def build(key: str, user_id: int, kind: str, rendered: notices.RenderedNotice, channels: list[str], due_at: datetime,
          now: datetime, *, reminder_id: int | None = None) -> list[dict[str, Any]]:
    """The notice rows, one per channel: a channel that delivers on writing (the inbox) has it now, the
    others' wait in the outbox. (Plain dicts: a batch inserts them in one statement.)"""
    return [_row(key, user_id, kind, rendered, channel, due_at, now, reminder_id, channel in DELIVERED_ON_WRITE)
            for channel in channels]


def _row(key: str, user_id: int, kind: str, rendered: notices.RenderedNotice, channel: str, due_at: datetime,
         now: datetime, reminder_id: int | None, delivered: bool) -> dict[str, Any]:
    return {
        "dedupe_key": f"{key}:{channel}", "user_id": user_id, "channel": channel, "kind": kind,
        "reminder_id": reminder_id, "subject": rendered.subject[:300], "body_text": rendered.text,
        "body_html": rendered.html, "due_at": due_at, "status": "sent" if delivered else "pending",
        "attempts": 0, "sent_at": now if delivered else None, "next_attempt_at": None if delivered else now,
        "claimed_by": None, "claimed_until": None, "read_at": None, "error": None, "created_at": now,
    }


def change_notices(session: Session, kind: str, meeting_id: int, user_id: int, previous_starts_at: datetime,
                   now: datetime, templates_dir: Path | None) -> list[Notice]:
    """日時変更のお知らせ / 中止のお知らせ for someone who was already reminded of the meeting."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        return []
    recipient = session.get(UserAccount, user_id)
    if recipient is None:
        return []
    common = notices.Common(recipient_name=recipient.display_name)
    facts = meeting_facts(session, meeting, actor_for(session, recipient))
    if kind == "meeting_changed":
        context = notices.meeting_changed(facts, previous_starts_at=previous_starts_at.astimezone(TOKYO), common=common)
    else:
        context = notices.meeting_cancelled(facts, reason=meeting.cancelled_reason, common=common)
    key = f"{kind}:{meeting_id}:{meeting.sequence}:{user_id}"
    if session.exec(select(Notice.id).where(Notice.dedupe_key == f"{key}:inbox")).first() is not None:
        return []
    return [Notice(**row) for row in build(key, user_id, "change" if kind == "meeting_changed" else "cancellation",
                                           notices.render(kind, context, templates_dir=templates_dir), ["inbox", "email"], now, now)]
