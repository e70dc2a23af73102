"""Following the domain's changes after they commit: each changed subject's reminders are brought in
line with its facts as they now stand, however many changes came in (one recomputation each).

Cases announce a change by their `version` (ahead of `reminders_version`); meetings, minutes and
findings by a change row. Either way nothing is done inside the change's own transaction, and no
reminder of a changed subject goes out before it has been followed (`reminders.of_changed_subject`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from notifications import messages, reminders
from notifications.reminders import Audience
from states.definition import StateSpec
from workflow import changes
from workflow.changes import Subject
from workflow.clock import TOKYO, Clock
from workflow.columns import table_of
from workflow.db import Database
from workflow.engine import Workflows
from workflow.findings import FindingStatus
from workflow.meetings import MeetingStatus
from workflow.minutes import MinutesStatus
from workflow.models import Assessment
from workflow.organisation_settings import calendar_of
from workflow.organisations import EVERY_ORGANISATION
from workflow.records import Finding, Meeting, Minutes

log = logging.getLogger("shingi.reminders")

Facts = Mapping[str, datetime | None]


def _day_end(day: date) -> datetime:
    return datetime.combine(day, time(17, 0), TOKYO)


def case_facts(case: Assessment, state: StateSpec) -> Facts:
    """The moments a case's reminders watch, as the case stands now (None: nothing to watch)."""
    settled = state.kind == "settled"
    active = state.kind == "active"
    return {
        "public_comment_end": (_day_end(case.comment_end)
                               if state.has("public_comment") and case.comment_end else None),
        "annual_review_due": _day_end(case.annual_review_due) if settled and case.annual_review_due else None,
        "reassessment_due": _day_end(case.reassessment_due) if settled and case.reassessment_due else None,
        "planned_holding_date": (_day_end(case.planned_holding_date)
                                 if active and case.planned_holding_date else None),
        "state_overdue": (case.state_entered_at + timedelta(days=state.target_days)
                          if active and state.target_days else None),
    }


def meeting_facts(meeting: Meeting) -> Facts:
    return {"meeting_start": meeting.starts_at if meeting.status == MeetingStatus.SCHEDULED else None}


def minutes_facts(minutes: Minutes) -> Facts:
    correcting = minutes.status == MinutesStatus.CORRECTING and minutes.correction_deadline is not None
    return {"minutes_correction_deadline": _day_end(minutes.correction_deadline)
            if correcting and minutes.correction_deadline else None}


def finding_facts(finding: Finding) -> Facts:
    """A question still awaiting the office's answer is watched from the morning it was raised."""
    waiting = finding.status in (FindingStatus.OPEN, FindingStatus.CARRIED)
    return {"finding_unanswered": datetime.combine(finding.raised_on, time(9, 0), TOKYO) if waiting else None}


@dataclass(frozen=True)
class ChangeTeller:
    """日時変更のお知らせ / 中止のお知らせ to each person already reminded of a meeting that moved or was
    cancelled, once, in the recomputation's transaction (with the secretariat's notice templates)."""

    templates_dir: Path | None

    def __call__(self, session: Session, subject: Subject, subject_id: int, decided: reminders.Plan,
                 now: datetime) -> None:
        if subject is not Subject.MEETING:
            return
        for kind, rows in (("meeting_changed", decided.changed), ("meeting_cancelled", decided.cancelled)):
            told: set[int] = set()
            for row in rows:
                if row.user_id in told:
                    continue
                told.add(row.user_id)
                session.add_all(messages.change_notices(session, kind, subject_id, row.user_id, row.fact_at, now,
                                                        self.templates_dir))


_ASSESSMENTS = table_of(Assessment)
_MARK_CASE_FOLLOWED = (update(_ASSESSMENTS)
                       .where(_ASSESSMENTS.c.id == bindparam("case_id"),
                              _ASSESSMENTS.c.version == bindparam("seen_version"))
                       .values(reminders_version=bindparam("seen_version")))


@dataclass(frozen=True)
class Follower:
    """Recomputes the reminders of changed subjects, each in its organisation's calendar; built once with
    the procedures in force."""

    db: Database
    workflows: Workflows
    clock: Clock
    #: The secretariat's own notice templates (SHINGI_TEMPLATES_DIR), or None for the shipped ones.
    templates_dir: Path | None

    def follow(self, *, batch: int = 200) -> int:
        """Follow every change committed so far; returns how many subjects were recomputed.

        The rules are read afresh first: one edited in another process counts from the next sweep.
        """
        reminders.forget_rules()
        return self.follow_cases(batch=batch) + self.follow_records(batch=batch)

    def follow_cases(self, *, batch: int = 200) -> int:
        done = 0
        while True:
            now = self.clock.now()
            with self.db.writing(EVERY_ORGANISATION) as session:
                query = (select(Assessment).where(changes.cases_changed_since_reminders())
                         .order_by(col(Assessment.id)).limit(batch))
                # A case locked by a change in progress is left for the next run, which sees the change.
                cases = session.exec(self.db.claiming(query)).all()
                for case in cases:
                    self._follow_case(session, case, now)
                if cases:  # Core: marking the reminders done is not a change of the case (no new version)
                    session.connection().execute(_MARK_CASE_FOLLOWED, [
                        {"case_id": case.id, "seen_version": case.version} for case in cases])
            done += len(cases)
            if len(cases) < batch:
                return done

    def _follow_case(self, session: Session, case: Assessment, now: datetime) -> None:
        procedure = self.workflows.procedures.get(case.procedure)
        if procedure is None or case.state not in procedure.states or case.id is None:
            # Its procedure file was taken away: keep its reminders as they are rather than hold up
            # every other case's (and every delivery) on it.
            log.warning("case %s: procedure %s / state %s not loaded; reminders left as they are",
                        case.id, case.procedure, case.state)
            return
        reminders.refresh(session, Subject.CASE, case.id, case_facts(case, procedure.states[case.state]),
                          Audience(case.body_id, case.office), now, calendar_of(session, case.organisation_id))

    def follow_records(self, *, batch: int = 200) -> int:
        done = 0
        while True:
            now = self.clock.now()
            with self.db.writing(EVERY_ORGANISATION) as session:
                pending = changes.pending(session, limit=batch, skip_locked=not self.db.is_sqlite)
                subjects: dict[tuple[Subject, int], list[int]] = defaultdict(list)
                for change in pending:
                    if change.id is not None:
                        subjects[(Subject(change.subject_type), change.subject_id)].append(change.id)
                for (subject, subject_id) in subjects:
                    self._follow_record(session, subject, subject_id, now)
                changes.followed(session, [change_id for ids in subjects.values() for change_id in ids])
            done += len(subjects)
            if len(pending) < batch:
                return done

    def _follow_record(self, session: Session, subject: Subject, subject_id: int, now: datetime) -> None:
        """One meeting, minutes or finding: its facts and audience from the record (locked, so that two
        workers following the same subject take turns)."""
        facts: Facts
        audience: Audience
        owner: int | None
        if subject is Subject.MEETING:
            meeting = session.get(Meeting, subject_id, with_for_update=True)
            facts = meeting_facts(meeting) if meeting else {"meeting_start": None}
            audience = Audience(meeting.body_id if meeting else None, None)
            owner = meeting.organisation_id if meeting else None
        elif subject is Subject.MINUTES:
            minutes = session.get(Minutes, subject_id, with_for_update=True)
            meeting = session.get(Meeting, minutes.meeting_id) if minutes else None
            facts = minutes_facts(minutes) if minutes else {"minutes_correction_deadline": None}
            audience = Audience(meeting.body_id if meeting else None, None)
            owner = minutes.organisation_id if minutes else None
        else:
            finding = session.get(Finding, subject_id, with_for_update=True)
            case = session.get(Assessment, finding.assessment_id) if finding else None
            facts = finding_facts(finding) if finding else {"finding_unanswered": None}
            audience = Audience(case.body_id if case else None, case.office if case else None)
            owner = finding.organisation_id if finding else None
        reminders.refresh(session, subject, subject_id, facts, audience, now, calendar_of(session, owner),
                          tell=ChangeTeller(self.templates_dir))
