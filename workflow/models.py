"""The tables. Rows stay plain SQLModel tables; the state machine wraps them (workflow.engine)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

# The deliberation record's tables live in their own module; importing it registers them with the
# metadata wherever the models are used (foreign keys such as document.meeting_id resolve by name).
from workflow import records as _records  # noqa: F401
from workflow.columns import UTCDateTime
from workflow.organisations import Owned, organisation_field


def _instant(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


# The version column is declared once so the mapper can use it for compare-and-swap updates:
# SQLAlchemy then writes `UPDATE … WHERE id = :id AND version = :seen` and refuses a stale write.
_assessment_version = Column("version", Integer, nullable=False)


class Assessment(SQLModel, Owned, table=True):
    """One assessment (特定個人情報保護評価) of one 事務, across its cycles (再実施 starts a new one)."""

    __tablename__ = "assessment"
    __table_args__ = (Index("ix_assessment_state_level", "state", "level"),)
    __mapper_args__ = {"version_id_col": _assessment_version}

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    title: str = Field(max_length=200)
    office: str = Field(max_length=100, index=True)
    #: assessment (特定個人情報保護評価) | consultation (諮問: オンライン結合, 再委託, 条例改正 …)
    kind: str = Field(default="assessment", max_length=16, index=True)
    #: For a consultation: online_coupling | re_outsourcing | ordinance_amendment | other
    consultation_type: str | None = Field(default=None, max_length=32)

    # しきい値判断 inputs and result (assessments only)
    target_count: int | None = Field(default=None, sa_type=BigInteger)
    handler_count: int | None = Field(default=None, sa_type=BigInteger)
    serious_incident: bool = False
    voluntary_level: str | None = Field(default=None, max_length=16)
    level: str | None = Field(default=None, max_length=16)

    procedure: str = Field(max_length=64)
    state: str = Field(max_length=64)
    #: The public may see the case (公開): its state is tagged `public` in its procedure. Kept with the
    #: state on every event (and brought in line with the procedure files at start-up), so that who
    #: may see a case is decided by the data, and listings filter on one column.
    is_public: bool = False
    version: int = Field(default=1, sa_column=_assessment_version)
    #: The version whose facts the case's reminders were last computed from (None: not yet). The
    #: scheduler recomputes them wherever this is behind `version`, right after the change commits.
    reminders_version: int | None = None
    #: The council or subcommittee that reviews it (its members may read it and its confidential material).
    body_id: int | None = Field(default=None, foreign_key="body.id", index=True)
    cycle: int = 1

    planned_holding_date: date | None = None  # 保有予定日: the file may not be held before publication

    # Facts the events record (per cycle unless noted)
    comment_start: date | None = None
    comment_end: date | None = None
    comment_shortened_reason: str | None = Field(default=None, max_length=1000)
    comment_count: int | None = None
    reported_on: date | None = None
    submitted_on: date | None = None  # latest submission to the PPC, kept across cycles
    published_on: date | None = None  # latest publication, kept across cycles
    last_reviewed_on: date | None = None
    annual_review_due: date | None = None  # 見直し: at least once a year
    reassessment_due: date | None = None  # 再実施: before five years have passed
    withdrawn_reason: str | None = Field(default=None, max_length=1000)

    state_entered_at: datetime = _instant()
    created_at: datetime = _instant()
    updated_at: datetime = _instant()


class HistoryEntry(SQLModel, Owned, table=True):
    """One fired event: append-only; the case's whole story across its cycles."""

    __tablename__ = "assessment_history"
    __table_args__ = (Index("ix_history_assessment_id_id", "assessment_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    assessment_id: int = Field(sa_column=Column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False))
    cycle: int
    at: datetime = _instant()
    actor: str = Field(max_length=200)
    actor_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    event: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=64)  # None for the creation entry
    to_state: str = Field(max_length=64)
    procedure: str = Field(max_length=64)
    version: int  # the case's version after this entry
    note: str | None = Field(default=None, max_length=2000)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


# --- accounts -----------------------------------------------------------------------------------

class Office(SQLModel, Owned, table=True):
    """実施機関 / 担当課: the office that does the work assessed."""

    __tablename__ = "office"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    name: str = Field(max_length=100)


class Body(SQLModel, Owned, table=True):
    """A council (審議会) or one of its subcommittees (部会)."""

    __tablename__ = "body"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    name: str = Field(max_length=200)
    kind: str = Field(default="council", max_length=16)  # council | subcommittee
    parent_id: int | None = Field(default=None, foreign_key="body.id")
    #: Members needed for a quorum: None means a majority of the members.
    quorum: int | None = None


class UserAccount(SQLModel, Owned, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    email: str = Field(max_length=254, unique=True)  # stored lower-case
    display_name: str = Field(max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    is_secretariat: bool = False
    is_admin: bool = False
    office_id: int | None = Field(default=None, foreign_key="office.id")
    created_at: datetime = _instant()
    disabled_at: datetime | None = _instant(default=None, nullable=True)


class Membership(SQLModel, Owned, table=True):
    """A member's seat on a body, and the position they hold there."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "body_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    user_id: int = Field(foreign_key="user_account.id", index=True)
    body_id: int = Field(foreign_key="body.id", index=True)
    position: str = Field(default="member", max_length=16)  # member | chair | acting_chair


class WebSession(SQLModel, Owned, table=True):
    """A signed-in browser: the cookie carries a random token, the table keeps only its hash."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _instant()
    expires_at: datetime = _instant()


class ApiToken(SQLModel, Owned, table=True):
    """A token for programs: shown once, stored hashed, revocable, with an expiry."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)  # shown in listings so a token can be recognised
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _instant()
    expires_at: datetime = _instant()
    revoked_at: datetime | None = _instant(default=None, nullable=True)
    last_used_at: datetime | None = _instant(default=None, nullable=True)


class SignInThrottle(SQLModel, table=True):
    """Consecutive failed sign-ins of one account from one source, and the lock they caused."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (UniqueConstraint("email", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    source: str = Field(max_length=64)
    failures: int = 0
    locked_until: datetime | None = _instant(default=None, nullable=True)
    last_failure_at: datetime | None = _instant(default=None, nullable=True)


# --- documents ----------------------------------------------------------------------------------

class Document(SQLModel, Owned, table=True):
    """An attached document (資料). Its content lives in the file store, never in the database."""

    __tablename__ = "document"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    assessment_id: int = Field(sa_column=Column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"),
                                                nullable=False, index=True))
    #: The meeting it was handed out at, if any, and its number there (資料1, 資料3-1 …).
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    label: str | None = Field(default=None, max_length=20)
    title: str = Field(max_length=200)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    #: public | members_only (委員限り) | members_only_delete_after_review (委員限り・点検後削除)
    classification: str = Field(max_length=40)
    storage_key: str | None = Field(default=None, max_length=100)  # None once purged
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = _instant()
    purged_at: datetime | None = _instant(default=None, nullable=True)
    purge_reason: str | None = Field(default=None, max_length=200)


# --- audit --------------------------------------------------------------------------------------

class AuditEntry(SQLModel, Owned, table=True):
    """One audited act, chained to the previous entry by a hash (tamper-evident, append-only)."""

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("organisation_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    at: datetime = _instant()
    actor_user_id: int | None = None
    actor: str = Field(max_length=254)
    action: str = Field(max_length=64, index=True)
    object_type: str | None = Field(default=None, max_length=32)
    object_id: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: The entry's place in its organisation's chain, and its links: None until the sweeper seals it.
    seq: int | None = Field(default=None, index=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """An organisation's chain: its last sealed entry and length (deleting entries at the tail shows here)."""

    __tablename__ = "audit_head"

    organisation_id: int = Field(primary_key=True, foreign_key="organisation.id")
    last_seq: int = 0
    last_hash: str = Field(max_length=64)
    length: int = 0


class ScheduledEvent(SQLModel, Owned, table=True):
    """An event the scheduler fires at a set time (e.g. opening and closing a public comment)."""

    __tablename__ = "scheduled_event"
    __table_args__ = (Index("ix_scheduled_event_due", "status", "run_at"),
                      UniqueConstraint("assessment_id", "event", "run_at"))

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    event: str = Field(max_length=64)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    run_at: datetime = _instant()
    #: pending | done | failed | cancelled
    status: str = Field(default="pending", max_length=16)
    #: The claim of the worker firing it (see workflow.claims): who, and until when.
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = _instant(default=None, nullable=True)
    error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _instant()
    done_at: datetime | None = _instant(default=None, nullable=True)


class RecordChange(SQLModel, Owned, table=True):
    """"Something changed": written in the transaction that changes a meeting, its minutes or a finding,
    so that whoever must react (the reminders) pulls the change after the commit. The domain never
    calls out. (A case carries the same news in its own `version`, ahead of `reminders_version`.)"""

    __tablename__ = "record_change"
    __table_args__ = (Index("ix_record_change_subject", "subject_type", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    #: meeting | minutes | finding
    subject_type: str = Field(max_length=16)
    subject_id: int
    changed_at: datetime = _instant()
