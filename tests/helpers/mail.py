"""E-mail notices waiting in the outbox, and the sender they go out from."""

from __future__ import annotations

from sqlmodel import select

from notifications import notices
from notifications.models import Notice
from workflow.clock import FixedClock
from workflow.db import Database
from workflow.models import UserAccount
from workflow.organisations import EVERY_ORGANISATION

SENDER = "福岡県個人情報保護審議会事務局 <shingi@pref.fukuoka.example.jp>"


def user_id(db: Database, address: str) -> int:
    with db.reading(EVERY_ORGANISATION) as session:
        return session.exec(select(UserAccount.id).where(UserAccount.email == address)).one()


def add_notice(db: Database, clock: FixedClock, address: str, *, key: str, kind: str = "meeting_reminder",
               language: str = "ja", **columns) -> int:
    """An e-mail notice waiting in the outbox, rendered from the Fukuoka sample."""
    rendered = notices.preview(kind, language)
    recipient = user_id(db, address)
    fields = {"dedupe_key": key, "user_id": recipient, "channel": "email", "kind": "reminder",
              "subject": rendered.subject, "body_text": rendered.text, "body_html": rendered.html,
              "due_at": clock.now(), "created_at": clock.now(), "next_attempt_at": clock.now(), **columns}
    with db.writing(EVERY_ORGANISATION) as session:
        notice = Notice(**fields)
        session.add(notice)
        session.flush()
        return notice.id


def notice(db: Database, notice_id: int) -> Notice:
    with db.reading(EVERY_ORGANISATION) as session:
        return session.get(Notice, notice_id)
