"""Demo data from the seed councils: cases (demo_cases.yaml) replayed through the real engine, with
the meetings and members' questions the seeds record, and one user for each role.

Each step is fired with the clock set to its recorded time, so the history reads as it happened.
The demo users get a fresh random password at every start, printed once, never a fixed one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from argon2 import PasswordHasher
from sqlalchemy import func
from sqlmodel import select

from notifications import papers
from workflow import accounts, findings, meetings, resolutions, service
from workflow.clock import TOKYO, Clock, FixedClock
from workflow.columns import stored_id
from workflow.db import Database
from workflow.engine import Workflows
from workflow.models import Assessment, UserAccount
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Actor, Position, Role, system_actor

DEMO_FILE = Path(__file__).parent / "demo_cases.yaml"
FUKUOKA = "福岡県個人情報保護審議会"
FUKUOKA_SUBCOMMITTEE = f"{FUKUOKA} 第二部会（住基・番号利用法部会）"

#: One demo user per role (names from the Fukuoka minutes, seed 000).
DEMO_USERS: tuple[tuple[str, str, set[Role], dict[str, Position], str | None], ...] = (
    ("admin@example.jp", "システム管理者", {Role.ADMIN}, {}, None),
    ("jimukyoku@example.jp", "事務局 個人情報保護担当", {Role.SECRETARIAT}, {}, None),
    ("kobayashi@example.jp", "小林 登（部会長）", {Role.MEMBER},
     {FUKUOKA_SUBCOMMITTEE: Position.CHAIR, FUKUOKA: Position.MEMBER}, None),
    ("sasaki@example.jp", "佐々木 久美子（委員）", {Role.MEMBER}, {FUKUOKA_SUBCOMMITTEE: Position.MEMBER}, None),
    ("inoue@example.jp", "井上 真由美（職務代理者）", {Role.MEMBER}, {FUKUOKA_SUBCOMMITTEE: Position.ACTING_CHAIR}, None),
    ("kuba@example.jp", "久芳（行財政支援課）", {Role.OFFICE}, {}, "福岡県 行財政支援課"),
)


@dataclass(frozen=True)
class DemoResult:
    loaded: int
    skipped: bool
    #: email → the password set at this start
    passwords: dict[str, str] = field(default_factory=dict)


def _instant(value: Any) -> datetime:
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return instant if instant.tzinfo else instant.replace(tzinfo=TOKYO)


def _jsonish(inputs: dict[str, Any]) -> dict[str, Any]:
    return {name: value.isoformat() if hasattr(value, "isoformat") else value for name, value in inputs.items()}


def body_name(entry: dict[str, Any]) -> str:
    council, body = entry["council"], entry.get("body") or entry["council"]
    return council if body == council else f"{council} {body}"


def load_demo(db: Database, workflows: Workflows, writer: papers.Papers, clock: Clock,
              path: Path = DEMO_FILE) -> DemoResult:
    """Load the demo cases into an empty database (a database holding cases is left alone), and
    make sure the demo users exist with a fresh password each."""
    passwords = _demo_users(db, clock)
    with db.reading(EVERY_ORGANISATION) as session:
        if session.exec(select(func.count()).select_from(Assessment)).one():
            return DemoResult(loaded=0, skipped=True, passwords=passwords)
    operator = system_actor("デモデータ")
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in cases:
        _ensure_body(db, entry)
        case_clock = FixedClock(_instant(entry["created_at"]))
        fields = {name: entry.get(name) for name in service.NewAssessment.model_fields
                  if name != "body" and entry.get(name) is not None}
        data = service.NewAssessment(**fields, body=body_name(entry))
        case = service.create_assessment(db, workflows, case_clock, data, operator)
        for step in entry.get("steps", []):
            case_clock.set(_instant(step["at"]))
            if "adopt" in step:
                _adopt(db, writer, case_clock, case, step)
                continue
            case = service.advance(
                db, workflows, case_clock, stored_id(case), event=step["event"], expected_version=case.version,
                inputs=_jsonish(step.get("inputs") or {}), actor=system_actor(step.get("actor", "事務局")),
                note=step.get("note"),
            )
        for meeting in entry.get("meetings", []):
            _replay_meeting(db, case, body_name(entry), meeting, operator)
    return DemoResult(loaded=len(cases), skipped=False, passwords=passwords)


def _replay_meeting(db: Database, case: Assessment, body: str, entry: dict[str, Any], operator: Actor) -> None:
    """A meeting from the record: scheduled, held, its members' questions answered, the next one fixed."""
    clock = FixedClock(_instant(entry["scheduled_at"]))
    scheduled = meetings.schedule(db, clock, meetings.NewMeeting(
        body=body, term=entry.get("term", ""), number=entry.get("number"), starts_at=_instant(entry["starts_at"]),
        ends_at=_instant(entry["ends_at"]) if entry.get("ends_at") else None, venue=entry.get("venue"),
        agenda=[meetings.AgendaItemInput(assessment_id=case.id, purpose=entry["purpose"],
                                         title=entry["agenda_title"])],
    ), operator)
    clock.set(_instant(entry.get("ends_at") or entry["starts_at"]))
    held = meetings.record_held(db, clock, stored_id(scheduled.meeting), meetings.HeldMeeting(
        expected_version=scheduled.meeting.version, observers=entry.get("observers")), operator)
    for item in entry.get("findings", []):
        finding = findings.raise_finding(db, clock, stored_id(case), findings.NewFinding(
            raised_by=item["raised_by"], meeting_id=held.meeting.id, kind=item.get("kind", "question"),
            section=item.get("section"), text=item["text"]), operator)
        if item.get("answer"):
            findings.answer_finding(db, clock, stored_id(finding), findings.FindingAnswer(
                answer=item["answer"], answered_at_meeting_id=held.meeting.id), operator)
    if entry.get("next"):
        following = entry["next"]
        meetings.schedule_next(db, clock, stored_id(held.meeting), meetings.NextMeeting(
            starts_at=_instant(following["starts_at"]),
            agenda=[meetings.AgendaItemInput(assessment_id=case.id, purpose=following["purpose"],
                                             title=following["agenda_title"])],
        ), operator)


def _adopt(db: Database, writer: papers.Papers, clock: Clock, case: Assessment, step: dict[str, Any]) -> None:
    """The body settles its opinion and adopts its report (or the council its reply), from the record."""
    kind = resolutions.ResolutionKind(step["adopt"])
    operator = system_actor(step.get("actor", "事務局"))
    today = clock.now().astimezone(TOKYO).date()
    if kind is resolutions.ResolutionKind.SUBCOMMITTEE_REPORT:
        resolutions.record_opinion(db, clock, stored_id(case), resolutions.OpinionInput(
            verdict=step.get("verdict", "appropriate"), supplementary=step.get("supplementary", []),
            decided_on=today), operator)
    text = writer.resolution_text(stored_id(case), kind)
    resolution = resolutions.draft(db, clock, stored_id(case), kind, operator, text=text)
    resolutions.adopt(db, clock, stored_id(resolution), today, step.get("by", "会長"), operator)


def _ensure_body(db: Database, entry: dict[str, Any]) -> None:
    with db.writing(EVERY_ORGANISATION) as session:
        accounts.body_by_name(session, entry["council"])
        if body_name(entry) != entry["council"]:
            accounts.body_by_name(session, body_name(entry), kind="subcommittee", parent=entry["council"])


def _demo_users(db: Database, clock: Clock) -> dict[str, str]:
    passwords: dict[str, str] = {}
    hasher = PasswordHasher()
    with db.writing(EVERY_ORGANISATION) as session:
        accounts.body_by_name(session, FUKUOKA)
        accounts.body_by_name(session, FUKUOKA_SUBCOMMITTEE, kind="subcommittee", parent=FUKUOKA)
    for email, name, roles, bodies, office in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        with db.reading(EVERY_ORGANISATION) as session:
            exists = session.exec(select(UserAccount).where(UserAccount.email == email)).first() is not None
        if not exists:
            accounts.add_user(db, clock, accounts.NewUser(
                email=email, display_name=name, password=password, roles=roles, bodies=bodies, office=office,
            ), system_actor("デモデータ"))
        else:
            with db.writing(EVERY_ORGANISATION) as session:
                user = session.exec(select(UserAccount).where(UserAccount.email == email)).one()
                user.password_hash = hasher.hash(password)
                session.add(user)
        passwords[email] = password
    return passwords
