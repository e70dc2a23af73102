"""Change is data: a transaction that changes a meeting, its minutes or a finding records that it
did, and whoever must react (the reminders) pulls the change after the commit.

A case needs no row: its `version` moves with every change, and `reminders_version` says which
version the reminders last followed (see `cases_changed_since_reminders`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, bindparam, delete, insert, or_, update
from sqlmodel import Session, col, select

from workflow.columns import table_of
from workflow.models import Assessment, RecordChange
from workflow.organisations import record_owner
from workflow.records import Finding, Meeting, Minutes


class Subject(StrEnum):
    """What a reminder, a change or a notice is about."""

    CASE = "assessment"  #: 案件 (its facts: comment period, reviews, target of the state)
    MEETING = "meeting"  #: 会議
    MINUTES = "minutes"  #: 会議録
    FINDING = "finding"  #: 質問・意見


_CHANGES = table_of(RecordChange)
_RECORD = insert(_CHANGES)


def record(session: Session, subject: Subject, subject_id: int, now: datetime) -> None:
    """Note in this transaction that `subject` changed (one INSERT; no unit of work)."""
    session.connection().execute(_RECORD, {"subject_type": subject.value, "subject_id": subject_id,
                                           "changed_at": now,
                                           "organisation_id": record_owner(session, subject.value, subject_id)})


def pending(session: Session, *, limit: int, skip_locked: bool) -> Sequence[RecordChange]:
    """The oldest changes not yet followed; on PostgreSQL rows another worker holds are skipped."""
    query = select(RecordChange).order_by(col(RecordChange.id)).limit(limit)
    return session.exec(query.with_for_update(skip_locked=True) if skip_locked else query).all()


def followed(session: Session, change_ids: Sequence[int]) -> None:
    """The changes have been followed: forget them."""
    if change_ids:
        session.connection().execute(delete(_CHANGES).where(_CHANGES.c.id.in_(bindparam("ids", expanding=True))),
                                     {"ids": list(change_ids)})


def all_changed(session: Session, now: datetime, subjects: Iterable[Subject] = tuple(Subject)) -> None:
    """Note that every subject of these kinds in the session's organisation changed, so that what is
    derived from them (their reminders) is computed again: after a change of what that derivation
    reads besides the record itself (the organisation's closure days, a reminder rule)."""
    kinds = set(subjects)
    if Subject.CASE in kinds:
        session.exec(update(Assessment).values(reminders_version=None))  # scoped like every ORM statement
    for subject, table in ((Subject.MEETING, Meeting), (Subject.MINUTES, Minutes), (Subject.FINDING, Finding)):
        if subject in kinds:
            for subject_id in session.exec(select(table.id)).all():
                if subject_id is not None:
                    record(session, subject, subject_id, now)


def cases_changed_since_reminders() -> ColumnElement[bool]:
    """Cases changed since their reminders were last computed."""
    return or_(col(Assessment.reminders_version).is_(None), col(Assessment.reminders_version) != Assessment.version)
