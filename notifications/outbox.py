"""The outbox: a sender takes a channel's pending notices out of the `notice` table, hands each to
the channel (notifications.channels; e-mail is the channel that waits here) and records each outcome
— sent, to be retried at a later time, or failed and why.

Claiming: one short transaction picks the pending e-mail notices that are due (`next_attempt_at`
NULL or past) and not claimed by another sender (`claimed_until` NULL or past), claims them
(`claimed_by` the worker, `claimed_until = now + lease`) and counts the attempt (`attempts += 1`). PostgreSQL skips rows other
senders hold locked (FOR UPDATE SKIP LOCKED); SQLite's write transaction is exclusive. The messages
are sent after that transaction has committed, so no lock is held while talking to the SMTP server,
and two senders never hold the same notice. Each outcome is written only if the notice is still the
one this sender leased (same attempt count, still pending): a sender that overran its lease does not
overwrite the work of the one that took over.

A sender that dies after sending but before recording leaves the notice leased; when the lease runs
out the notice is sent again, with the same Message-ID (derived from its dedupe key), so the copy is
recognisable. The lease must therefore outlast one message's SMTP timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from notifications.channels import Channel, EmailChannel, Outgoing
from notifications.mailer import Mailer, TransportError
from notifications.models import Notice
from workflow.clock import Clock
from workflow.columns import stored_id
from workflow.db import Database
from workflow.models import UserAccount
from workflow.organisations import EVERY_ORGANISATION

log = logging.getLogger("shingi.email")

#: After this many attempts a notice that still cannot be sent is marked failed.
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)
ERROR_MAX = 1000  # Notice.error


@dataclass(frozen=True)
class DeliveryReport:
    """What one run of `deliver_emails` did."""

    sent: int = 0
    retried: int = 0  # a retry is scheduled (next_attempt_at)
    failed: int = 0   # failed for good (permanent error, attempts used up, recipient disabled)


@dataclass(frozen=True)
class FailedNotice:
    """A notice that could not be delivered, for the secretariat's view."""

    id: int
    channel: str
    kind: str
    subject: str
    user_id: int
    email: str
    display_name: str
    attempts: int
    error: str | None
    due_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class _Leased:
    id: int
    attempts: int  # after this claim: the version the outcome is written against
    outgoing: Outgoing
    lease_until: datetime


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 1, 2, 4, 8 … minutes, at most 6 hours."""
    if attempts < 1:
        raise ValueError("backoff follows an attempt")
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 20), MAX_RETRY)


def deliver_emails(db: Database, mailer: Mailer, clock: Clock, *, limit: int = 100, lease_seconds: float = 60,
                   max_attempts: int = MAX_ATTEMPTS, worker: str | None = None) -> DeliveryReport:
    """The e-mail channel's outbox (see `send_outbox`)."""
    return send_outbox(db, EmailChannel(mailer), clock, limit=limit, lease_seconds=lease_seconds,
                       max_attempts=max_attempts, worker=worker)


def send_outbox(db: Database, channel: Channel, clock: Clock, *, limit: int = 100, lease_seconds: float = 60,
                max_attempts: int = MAX_ATTEMPTS, worker: str | None = None) -> DeliveryReport:
    """Send up to `limit` due e-mail notices and record each outcome (see the module docstring).

    A retryable transport error schedules the next attempt `backoff(attempts)` later; a permanent
    one, or a retryable one on the `max_attempts`-th attempt, marks the notice failed with the error.
    A notice to a disabled user, or to an address no message can carry, fails without being sent.
    Notices still unsent when the lease runs out are handed back for the next run.
    """
    lease = timedelta(seconds=lease_seconds)
    leased, refused = _claim(db, channel.name, clock.now(), limit, lease, worker)
    sent = retried = 0
    failed = refused
    for index, notice in enumerate(leased):
        if clock.now() >= notice.lease_until:  # another sender may take these over now: hand them back
            _release(db, leased[index:])
            log.warning("e-mail lease ran out; %d notices handed back", len(leased) - index)
            break
        outcome = _send(channel, notice.outgoing, clock)
        now = clock.now()
        if outcome is None:
            values = {"status": "sent", "sent_at": now, "error": None}
        elif outcome.retryable and notice.attempts < max_attempts:
            values = {"next_attempt_at": now + backoff(notice.attempts), "error": outcome.reason[:ERROR_MAX]}
        else:
            gave_up = f" (gave up after {notice.attempts} attempts)" if outcome.retryable else ""
            values = {"status": "failed", "error": outcome.reason[:ERROR_MAX - len(gave_up)] + gave_up}
        if not _record(db, notice, values):
            log.warning("notice %s: lease lost before its outcome was recorded (%s)", notice.id, values.get("status"))
            continue
        if outcome is None:
            sent += 1
        elif values.get("status") == "failed":
            failed += 1
            log.warning("notice %s failed: %s", notice.id, values["error"])
        else:
            retried += 1
            log.info("notice %s: retry at %s (%s)", notice.id, values["next_attempt_at"], outcome.reason)
    return DeliveryReport(sent=sent, retried=retried, failed=failed)


def failed_notices(db: Database, *, limit: int = 200) -> list[FailedNotice]:
    """Notices that failed for good, newest first, with whom they were for and why."""
    with db.reading(EVERY_ORGANISATION) as session:
        rows = session.exec(
            select(Notice, UserAccount).join(UserAccount, col(UserAccount.id) == Notice.user_id)
            .where(Notice.status == "failed").order_by(col(Notice.id).desc()).limit(limit)).all()
    return [FailedNotice(id=stored_id(notice), channel=notice.channel, kind=notice.kind, subject=notice.subject,
                         user_id=stored_id(user), email=user.email, display_name=user.display_name,
                         attempts=notice.attempts, error=notice.error, due_at=notice.due_at,
                         created_at=notice.created_at)
            for notice, user in rows]


# --- the steps ------------------------------------------------------------------------------------

def _claim(db: Database, channel: str, now: datetime, limit: int, lease: timedelta,
           worker: str | None) -> tuple[list[_Leased], int]:
    """Lease the due notices; fail at once those whose recipient is disabled. Returns the leased
    notices and how many failed."""
    query = (
        select(Notice, UserAccount).join(UserAccount, col(UserAccount.id) == Notice.user_id)
        .where(Notice.channel == channel, Notice.status == "pending",
               or_(col(Notice.next_attempt_at).is_(None), col(Notice.next_attempt_at) <= now),
               or_(col(Notice.claimed_until).is_(None), col(Notice.claimed_until) <= now))
        .order_by(col(Notice.id)).limit(limit)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True, of=Notice)
    leased, failed = [], 0
    with db.writing(EVERY_ORGANISATION) as session:
        for notice, user in session.exec(query).all():
            if user.disabled_at is not None:
                notice.status, notice.claimed_by, notice.claimed_until = "failed", None, None
                notice.error = f"宛先の利用者（{user.email}）は無効化されているため、送信しませんでした（recipient account disabled）。"
                failed += 1
                log.warning("notice %s not sent: recipient %s is disabled", notice.id, user.id)
            else:
                notice.attempts += 1
                notice.claimed_by, notice.claimed_until = worker, now + lease
                outgoing = Outgoing(notice_id=stored_id(notice), dedupe_key=notice.dedupe_key, subject=notice.subject,
                                    text=notice.body_text, html=notice.body_html, email=user.email,
                                    display_name=user.display_name)
                leased.append(_Leased(id=stored_id(notice), attempts=notice.attempts, outgoing=outgoing,
                                      lease_until=notice.claimed_until))
            session.add(notice)
    return leased, failed


def _send(channel: Channel, notice: Outgoing, clock: Clock) -> TransportError | None:
    """Hand one notice to its channel: None when it was accepted, else the error."""
    try:
        channel.send(notice, clock.now())
    except TransportError as error:
        return error
    return None


def _record(db: Database, notice: _Leased, values: dict) -> bool:
    """Write the outcome if the notice is still ours (same attempt, still pending); True if written."""
    with db.writing(EVERY_ORGANISATION) as session:
        result = session.exec(
            update(Notice).where(col(Notice.id) == notice.id, col(Notice.attempts) == notice.attempts,
                                 col(Notice.status) == "pending")
            .values(claimed_by=None, claimed_until=None, **values))
    return result.rowcount == 1


def _release(db: Database, notices: Sequence[_Leased]) -> None:
    """Hand back notices leased but not tried: unlocked, and the attempt not counted."""
    with db.writing(EVERY_ORGANISATION) as session:
        for notice in notices:
            session.exec(
                update(Notice).where(col(Notice.id) == notice.id, col(Notice.attempts) == notice.attempts,
                                     col(Notice.status) == "pending")
                .values(claimed_by=None, claimed_until=None, attempts=notice.attempts - 1))
