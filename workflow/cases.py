"""The one loader of a case (an assessment or a consultation): every service finds its case here."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session, select

from workflow.columns import MAX_ID
from workflow.errors import Record, RecordNotFound
from workflow.models import Assessment

#: Built once (Session.get builds its SELECT anew on every call).
_CASE_FOR_UPDATE = select(Assessment).where(Assessment.id == bindparam("case_id")).with_for_update()


def load(session: Session, case_id: int, *, for_update: bool = False) -> Assessment:
    """The case, or RecordNotFound (ids beyond the column's range included). `for_update`: on PostgreSQL a
    concurrent writer waits for this one."""
    if not 0 < case_id <= MAX_ID:
        case = None
    elif for_update:
        case = session.exec(_CASE_FOR_UPDATE, params={"case_id": case_id}).first()
    else:
        case = session.get(Assessment, case_id)
    if case is None:
        raise RecordNotFound(Record.CASE, case_id)
    return case
