"""The in-app inbox: the notices of the `inbox` channel, delivered the moment they are written."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from notifications.models import Notice
from workflow.columns import MAX_ID
from workflow.db import Database
from workflow.errors import Record, RecordNotFound
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Action, Actor, authorize, is_own

CHANNEL = "inbox"


def notices(db: Database, actor: Actor, *, unread_only: bool = False, limit: int = 100) -> list[Notice]:
    """The actor's own notices, newest first."""
    authorize(actor, Action.READ_INBOX)
    with db.reading(actor) as session:
        query = select(Notice).where(Notice.user_id == actor.user_id, Notice.channel == CHANNEL)
        if unread_only:
            query = query.where(col(Notice.read_at).is_(None))
        return list(session.exec(query.order_by(col(Notice.id).desc()).limit(limit)).all())


def mark_read(db: Database, actor: Actor, notice_id: int, now: datetime) -> Notice:
    authorize(actor, Action.READ_INBOX)
    with db.writing(actor) as session:
        notice = session.get(Notice, notice_id) if 0 < notice_id <= MAX_ID else None
        # someone else's notice does not exist for this actor: the words of one that is not there
        if notice is None or not is_own(actor, notice.user_id) or notice.channel != CHANNEL:
            raise RecordNotFound(Record.NOTICE, notice_id)
        notice.read_at = notice.read_at or now
        session.add(notice)
    return notice


def unread_count(db: Database, user_id: int) -> int:
    with db.reading(EVERY_ORGANISATION) as session:
        return session.exec(select(func.count()).select_from(Notice).where(
            Notice.user_id == user_id, Notice.channel == CHANNEL, col(Notice.read_at).is_(None))).one()
