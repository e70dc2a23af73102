"""The signed-in user, API tokens, users (admin) and the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from api.errors import LocalisedText
from api.schemas.common import from_row
from workflow.audit import Checkpoint, Verdict
from workflow.models import ApiToken, AuditEntry, UserAccount
from workflow.organisations import Organisation
from workflow.policy import Actor, Position, Role


class MeOut(BaseModel):
    user_id: int | None
    display_name: str
    email: str | None
    roles: list[Role]
    office: str | None
    bodies: dict[str, Position] = Field(description="body id → the position held there")
    via: str | None = Field(description="session | token")
    csrf_token: str | None = Field(description="send it back as X-CSRF-Token with a session's writes")


def me_out(actor: Actor) -> MeOut:
    return MeOut(user_id=actor.user_id, display_name=actor.label, email=actor.email, roles=sorted(actor.roles),
                 office=actor.office, bodies={str(body): position for body, position in actor.bodies.items()},
                 via=actor.via, csrf_token=actor.csrf_token)


class ClosedDayOut(BaseModel):
    date: date
    reason: str = Field(description="why the offices are closed that day (例: 年末年始, 文化の日, 臨時閉庁日)")


class OrganisationOut(BaseModel):
    """The signed-in user's organisation: its letterhead and its business-day calendar."""

    code: str
    name: str
    kind: str = Field(description="prefecture | municipality | association")
    head_title: str
    closure_days: str = Field(description="土日・祝日のほかの閉庁日（毎年）")
    closed_dates: list[date] = Field(description="臨時閉庁日")
    closed_weekdays_ahead: list[ClosedDayOut] = Field(
        description="the weekdays the offices are closed in the coming 120 days, holidays included")


def organisation_out(organisation: Organisation, ahead: list[tuple[date, str]]) -> OrganisationOut:
    return OrganisationOut(code=organisation.code, name=organisation.name, kind=organisation.kind,
                           head_title=organisation.head_title, closure_days=organisation.closure_days,
                           closed_dates=[date.fromisoformat(day) for day in organisation.closed_dates],
                           closed_weekdays_ahead=[ClosedDayOut(date=day, reason=reason) for day, reason in ahead])


class TokenOut(BaseModel):
    """An API token as listed: its prefix identifies it; the token itself is never shown again."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class IssuedTokenOut(TokenOut):
    token: str = Field(description="shown in this answer only")


def token_out(record: ApiToken) -> TokenOut:
    return from_row(TokenOut, record)


def issued_token_out(token: str, record: ApiToken) -> IssuedTokenOut:
    return from_row(IssuedTokenOut, record, token=token)


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    is_secretariat: bool
    is_admin: bool
    office_id: int | None
    disabled_at: datetime | None


def user_out(user: UserAccount) -> UserOut:
    return from_row(UserOut, user)


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_user_id: int | None
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    source: str | None
    detail: dict[str, Any]  # what the act recorded: JSON values
    seq: int | None = Field(description="the entry's place in the chain; null until sealed (within seconds)")
    prev_hash: str | None
    hash: str | None


def audit_entry_out(entry: AuditEntry) -> AuditEntryOut:
    return from_row(AuditEntryOut, entry)


class AuditCheckpointOut(BaseModel):
    """Where the chain ends now: keep it outside the database, and verify against it later."""

    seq: int = Field(description="the last entry of the chain")
    length: int = Field(description="entries in the chain")
    hash: str = Field(description="the last entry's hash (64 hexadecimal digits)")
    at: datetime = Field(description="when the checkpoint was taken (Asia/Tokyo)")


def audit_checkpoint_out(checkpoint: Checkpoint) -> AuditCheckpointOut:
    return AuditCheckpointOut(seq=checkpoint.seq, length=checkpoint.length, hash=checkpoint.hash,
                              at=checkpoint.at)


class AuditVerdictOut(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None = Field(description="the first entry of the chain that does not hold")
    reason: str | None = Field(description="what is wrong, in English (`message` has both languages)")
    message: LocalisedText = Field(description="the whole verdict in one sentence")
    pending: int = Field(description="entries written but not sealed yet")
    checkpoint: AuditCheckpointOut | None = Field(description="the checkpoint the chain was checked against")
    walked: bool = Field(description="false when the checkpoint given could not be read (nothing was checked)")


def audit_verdict_out(verdict: Verdict) -> AuditVerdictOut:
    return AuditVerdictOut(ok=verdict.ok, checked=verdict.checked, broken_seq=verdict.broken_seq,
                           reason=verdict.reason, message=LocalisedText(**verdict.message.as_dict()),
                           pending=verdict.pending, walked=verdict.walked,
                           checkpoint=audit_checkpoint_out(verdict.checkpoint) if verdict.checkpoint else None)
