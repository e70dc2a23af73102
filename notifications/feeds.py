"""Calendar feeds (iCalendar, RFC 5545) that members, bodies and the public subscribe to.

Three feeds, each built from the database at the moment it is fetched:

- a member's own feed (`/feeds/members/{token}.ics`): the meetings of the bodies the member sits on
  *now* (a cancelled one stays, as STATUS:CANCELLED, so that subscribed calendars remove it) and
  the member's deadlines as all-day events — the end of the public comment (意見聴取期間終了) of the
  cases their bodies review, and the correction deadline (会議録修正期限) of their bodies' minutes.
  Annual reviews and re-assessments are the secretariat's and the offices' business, not members';
- a body's feed (`/feeds/bodies/{token}.ics`): that body's meetings, closed ones included;
- the public feed (`/feeds/public.ics`): public meetings only, no deadlines, no token.

Private feeds are reached by a secret URL: the token in it is a random 256-bit string shown once
(on issue and on rotation); the table keeps only its SHA-256, like API tokens. A revoked or unknown
token is "not found" — the URL itself is the secret, so there is no one to ask to sign in.

Every event has a stable UID (`meeting-{id}@shingi`, `deadline-{kind}-{id}@shingi`) so that a moved
meeting updates in place; SEQUENCE is the meeting's `sequence`, raised whenever its date, time or
venue change or it is cancelled. Times are written in Asia/Tokyo with its VTIMEZONE.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, Timezone, vDuration
from sqlalchemy import and_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from notifications.models import CalendarToken
from workflow import audit, dates
from workflow.accounts import audit_actor, digest
from workflow.clock import TOKYO, Clock
from workflow.columns import MAX_ID, stored_id
from workflow.db import Database
from workflow.engine import Workflows
from workflow.errors import Message, NotFound, Record, RecordNotFound
from workflow.models import Assessment, Body, Membership, UserAccount
from workflow.organisations import EVERY_ORGANISATION, organisation_coded
from workflow.policy import Action, Actor, authorize, feed_meetings
from workflow.records import AgendaItem, Meeting, Minutes

TOKEN_PREFIX = "cal_"
#: A token is TOKEN_PREFIX + 43 URL-safe characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 100

PRODID = "-//shingi//JA"
UID_DOMAIN = "shingi"
TZID = "Asia/Tokyo"
#: How often subscribers are asked to fetch the feed again (REFRESH-INTERVAL, X-PUBLISHED-TTL).
REFRESH_INTERVAL = timedelta(hours=1)

PUBLIC_CALENDAR_NAME = "審議会・部会 公開会議"

_STATUS = {"scheduled": "CONFIRMED", "held": "CONFIRMED", "cancelled": "CANCELLED"}


class FeedNotFound(NotFound):
    """An unknown, revoked or mismatched feed token (the URL is the secret: 404, never 401)."""

    def __init__(self) -> None:
        super().__init__(Message("カレンダーが見つかりません（URLが誤っているか、無効になっています）。",
                                 "No such calendar (the URL is wrong or no longer valid)."))


# --- tokens -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedCalendarToken:
    """A feed token as issued: the secret is here once and never again."""

    record: CalendarToken
    token: str

    @property
    def kind(self) -> str:
        return "body" if self.record.body_id is not None else "member"

    @property
    def path(self) -> str:
        return feed_path(self.record, self.token)


def feed_path(record: CalendarToken, token: str) -> str:
    """The feed's path for this token (the caller puts its own scheme and host in front)."""
    if record.body_id is not None:
        return f"/feeds/bodies/{token}.ics"
    return f"/feeds/members/{token}.ics"


def _new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def issue_token(db: Database, clock: Clock, actor: Actor, *, body_id: int | None = None) -> IssuedCalendarToken:
    """A new secret feed URL: a member's own (no body_id), or a body's (the secretariat only)."""
    authorize(actor, Action.ISSUE_OWN_CALENDAR if body_id is None else Action.ISSUE_BODY_CALENDAR)
    now = clock.now()
    token = _new_secret()
    with db.writing(actor) as session:
        if body_id is not None and (not 0 < body_id <= MAX_ID or session.get(Body, body_id) is None):
            raise RecordNotFound(Record.BODY, body_id)
        record = CalendarToken(token_hash=digest(token), user_id=None if body_id is not None else actor.user_id,
                               body_id=body_id, created_at=now)
        session.add(record)
        session.flush()
        audit.record(session, audit_actor(actor), "calendar_token.issued", at=now, object_type="calendar_token",
                     object_id=record.id, detail=_token_facts(record))
    return IssuedCalendarToken(record=record, token=token)


def rotate_token(db: Database, clock: Clock, token_id: int, actor: Actor) -> IssuedCalendarToken:
    """Revoke the token and issue its replacement (same member or body): the old URL stops working."""
    now = clock.now()
    token = _new_secret()
    with db.writing(actor) as session:
        old = session.get(CalendarToken, token_id, with_for_update=True) if 0 < token_id <= MAX_ID else None
        live = old if old is not None and old.revoked_at is None else None
        # Someone else's token, or one already revoked, is not there for this actor (the public signs in first).
        authorize(actor, Action.ROTATE_CALENDAR, live, hidden=RecordNotFound(Record.CALENDAR_TOKEN, token_id))
        if old is None:  # hidden by the rule already; this tells the type checker
            raise RecordNotFound(Record.CALENDAR_TOKEN, token_id)
        old.revoked_at = now
        session.add(old)
        record = CalendarToken(token_hash=digest(token), user_id=old.user_id, body_id=old.body_id, created_at=now)
        session.add(record)
        session.flush()
        audit.record(session, audit_actor(actor), "calendar_token.rotated", at=now, object_type="calendar_token",
                     object_id=record.id, detail=_token_facts(record) | {"replaces": old.id})
    return IssuedCalendarToken(record=record, token=token)


def _token_facts(record: CalendarToken) -> dict[str, int | str | None]:
    # Never the secret itself, nor its hash.
    return {"kind": "body" if record.body_id is not None else "member", "user_id": record.user_id,
            "body_id": record.body_id}


def _live_token(session: Session, token: str) -> CalendarToken:
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        raise FeedNotFound()
    record = session.exec(select(CalendarToken).where(CalendarToken.token_hash == digest(token))).first()
    if record is None or record.revoked_at is not None:
        raise FeedNotFound()
    return record


# --- feeds --------------------------------------------------------------------------------------

def member_feed(db: Database, clock: Clock, workflows: Workflows, token: str) -> bytes:
    """The member's meetings and deadlines, for the bodies they sit on at this moment."""
    with db.reading(EVERY_ORGANISATION) as session:
        record = _live_token(session, token)
        if record.user_id is None:
            raise FeedNotFound()
        user = session.get(UserAccount, record.user_id)
        if user is None or user.disabled_at is not None:
            raise FeedNotFound()
        body_ids = sorted(set(session.exec(select(Membership.body_id).where(Membership.user_id == user.id)).all()))
        calendar = _calendar(f"審議会の会議・期限（{user.display_name}）")
        bodies = _bodies(session, body_ids)
        meetings = _meetings(session, feed_meetings(record, body_ids)) if body_ids else []
        _add_meetings(calendar, session, meetings, bodies, clock.now(), private=True)
        if body_ids:
            _add_deadlines(calendar, session, workflows, body_ids, bodies, clock.now())
    return calendar.to_ical()


def body_feed(db: Database, clock: Clock, token: str) -> bytes:
    """All of one body's meetings (closed ones included: the URL is given to the body's people)."""
    with db.reading(EVERY_ORGANISATION) as session:
        record = _live_token(session, token)
        if record.body_id is None:
            raise FeedNotFound()
        body = session.get(Body, record.body_id)
        if body is None:
            raise FeedNotFound()
        calendar = _calendar(f"{body.name} 会議予定")
        meetings = _meetings(session, feed_meetings(record))
        _add_meetings(calendar, session, meetings, {stored_id(body): body}, clock.now(), private=True)
    return calendar.to_ical()


def public_feed(db: Database, clock: Clock, *, name: str = PUBLIC_CALENDAR_NAME,
                organisation: str | None = None) -> bytes:
    """Public meetings only (a cancelled public one included, as STATUS:CANCELLED); nothing else. Every
    organisation's, or those of the organisation with the code `organisation`."""
    with db.reading(EVERY_ORGANISATION) as session:
        calendar = _calendar(name)
        condition = feed_meetings(None)
        if organisation:
            condition = and_(condition, col(Meeting.organisation_id) == organisation_coded(organisation))
        meetings = _meetings(session, condition)
        bodies = _bodies(session, {meeting.body_id for meeting in meetings})
        _add_meetings(calendar, session, meetings, bodies, clock.now(), private=False)
    return calendar.to_ical()


# --- building -----------------------------------------------------------------------------------

def meeting_uid(meeting_id: int) -> str:
    return f"meeting-{meeting_id}@{UID_DOMAIN}"


def deadline_uid(kind: str, subject_id: int) -> str:
    return f"deadline-{kind}-{subject_id}@{UID_DOMAIN}"


def meeting_title(meeting: Meeting, body: Body) -> str:
    """第16期第3回 第二部会（住基・番号利用法部会）."""
    return dates.meeting_title(meeting.term, meeting.number, body.name)


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("name", name)
    calendar.add("x-wr-timezone", TZID)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    calendar.add_component(_tokyo())  # always there, so that a feed is never empty
    return calendar


def _tokyo() -> Timezone:
    """VTIMEZONE of Asia/Tokyo: JST, UTC+9, without daylight saving time since 1951."""
    zone = Timezone.from_tzid(TZID)
    zone.pop("COMMENT", None)  # "only works from 1970 to 2038": not so for a zone without transitions
    return zone


def _bodies(session: Session, body_ids: Iterable[int]) -> dict[int, Body]:
    ids = list(body_ids)
    if not ids:
        return {}
    return {stored_id(body): body for body in session.exec(select(Body).where(col(Body.id).in_(ids))).all()}


def _meetings(session: Session, condition: ColumnElement[bool]) -> list[Meeting]:
    return list(session.exec(select(Meeting).where(condition).order_by(col(Meeting.starts_at), col(Meeting.id))).all())


def _agenda(session: Session, meetings: Sequence[Meeting]) -> dict[int, list[AgendaItem]]:
    agenda: dict[int, list[AgendaItem]] = defaultdict(list)
    if meetings:
        for item in session.exec(select(AgendaItem).where(col(AgendaItem.meeting_id).in_([m.id for m in meetings]))
                                 .order_by(col(AgendaItem.position), col(AgendaItem.id))).all():
            agenda[item.meeting_id].append(item)
    return agenda


def _add_meetings(calendar: Calendar, session: Session, meetings: Sequence[Meeting], bodies: dict[int, Body],
                  now: datetime, *, private: bool) -> None:
    agenda = _agenda(session, meetings)
    for meeting in meetings:
        calendar.add_component(_meeting_event(meeting, bodies[meeting.body_id], agenda[stored_id(meeting)], now,
                                              private=private))


def _meeting_event(meeting: Meeting, body: Body, agenda: Sequence[AgendaItem], now: datetime, *,
                   private: bool) -> Event:
    cancelled = meeting.status == "cancelled"
    event = Event()
    event.add("uid", meeting_uid(stored_id(meeting)))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("created", meeting.created_at.astimezone(UTC))
    event.add("last-modified", meeting.updated_at.astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(TOKYO))
    if meeting.ends_at is not None:
        event.add("dtend", meeting.ends_at.astimezone(TOKYO))
    event.add("summary", ("【中止】" if cancelled else "") + meeting_title(meeting, body))
    event.add("location", meeting.venue)
    event.add("description", _meeting_description(meeting, agenda, private=private))
    event.add("status", _STATUS.get(meeting.status, "CONFIRMED"))
    event.add("class", "PUBLIC" if meeting.is_public else "CONFIDENTIAL")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


def _meeting_description(meeting: Meeting, agenda: Sequence[AgendaItem], *, private: bool) -> str:
    lines: list[str] = []
    if meeting.status == "cancelled":
        reason = meeting.cancelled_reason if private and meeting.cancelled_reason else None
        lines.append(f"この会議は中止になりました（{reason}）。" if reason else "この会議は中止になりました。")
    lines.append("公開" if meeting.is_public else "非公開")
    if agenda:
        lines.append("議題")
        lines.extend(f"{index}. {item.title}" for index, item in enumerate(agenda, start=1))
    return "\n".join(lines)


def _ended(workflows: Workflows, case: Assessment) -> bool:
    """A case that ended without completing (its state is tagged `ended`): its deadlines concern no one."""
    procedure = workflows.procedures.get(case.procedure)
    state = procedure.states.get(case.state) if procedure else None
    return state is not None and state.has("ended")


def _add_deadlines(calendar: Calendar, session: Session, workflows: Workflows, body_ids: Sequence[int],
                   bodies: dict[int, Body], now: datetime) -> None:
    cases = session.exec(select(Assessment).where(
        col(Assessment.body_id).in_(body_ids), col(Assessment.comment_end).is_not(None),
    ).order_by(col(Assessment.comment_end), col(Assessment.id))).all()
    for case in cases:
        if case.comment_end is None or _ended(workflows, case):  # no date: none is, the query asks for one
            continue
        calendar.add_component(_deadline_event(
            "public-comment-end", stored_id(case), case.comment_end, f"意見聴取期間終了：{case.title}",
            f"{case.title}（{case.office}）の意見聴取（パブリック・コメント）の期間が終了します。",
            # The case's version rises with every change of its row, so it is a valid SEQUENCE.
            sequence=case.version, modified=case.updated_at, now=now))
    rows = session.exec(
        select(Minutes, Meeting).join(Meeting, col(Meeting.id) == Minutes.meeting_id)
        .where(col(Meeting.body_id).in_(body_ids), col(Minutes.correction_deadline).is_not(None))
        .order_by(col(Minutes.correction_deadline), col(Minutes.id))
    ).all()
    for minutes, meeting in rows:
        if minutes.correction_deadline is None:  # no date: none is, the query asks for one
            continue
        title = meeting_title(meeting, bodies[meeting.body_id])
        calendar.add_component(_deadline_event(
            "minutes-correction", stored_id(minutes), minutes.correction_deadline, f"会議録修正期限：{title}",
            f"{title}の会議録（案）への修正の申出の期限です。", sequence=0, modified=minutes.updated_at, now=now))


def _deadline_event(kind: str, subject_id: int, day: date, summary: str, description: str, *, sequence: int,
                    modified: datetime, now: datetime) -> Event:
    event = Event()
    event.add("uid", deadline_uid(kind, subject_id))
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("last-modified", modified.astimezone(UTC))
    event.add("dtstart", day)  # VALUE=DATE: an all-day event
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CONFIRMED")
    event.add("class", "CONFIDENTIAL")
    event.add("transp", "TRANSPARENT")  # a deadline does not make the member busy
    return event
