"""Sign-in and sign-out, the current user, API tokens, users (admin), the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.auth import SESSION_COOKIE, ActorDep, client_source, session_cookie_options
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, SIGN_IN_LOCKED
from api.routing import Router
from api.schemas.accounts import (
    AuditCheckpointOut,
    AuditEntryOut,
    AuditVerdictOut,
    IssuedTokenOut,
    MeOut,
    OrganisationOut,
    TokenOut,
    UserOut,
    audit_checkpoint_out,
    audit_entry_out,
    audit_verdict_out,
    issued_token_out,
    me_out,
    organisation_out,
    token_out,
    user_out,
)
from workflow import accounts, audit, organisation_settings
from workflow.accounts import Credentials, NewUser
from workflow.clock import local_today
from workflow.columns import MAX_ID
from workflow.organisation_settings import OrganisationChange
from workflow.validation import JSON_INTEGER, EmailText, RecordInstant, Text100, refusal

router = Router(tags=["accounts"], responses=ERROR_RESPONSES)


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text100 = "api"
    days: Annotated[int, Field(ge=1, le=366), JSON_INTEGER] = Field(default=90, description="有効期間（日）")


@router.post("/api/session", summary="ログイン（パスワード）", responses=SIGN_IN_LOCKED)
def sign_in(data: Credentials, request: Request, response: Response, services: ServicesDep) -> MeOut:
    grant = accounts.sign_in(services.db, services.clock, data.email, data.password, client_source(request))
    response.set_cookie(SESSION_COOKIE, grant.token, max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
                        **session_cookie_options(services))
    return me_out(grant.actor)


@router.delete("/api/session", status_code=status.HTTP_204_NO_CONTENT, summary="ログアウト")
def sign_out(request: Request, response: Response, services: ServicesDep, actor: ActorDep) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token and actor.via == "session":
        accounts.sign_out(services.db, services.clock, token, actor)
    response.delete_cookie(SESSION_COOKIE, **session_cookie_options(services))


@router.get("/api/me", summary="ログイン中の利用者")
def me(actor: ActorDep) -> MeOut:
    return me_out(accounts.me(actor))


@router.get("/api/organisation", summary="所属する団体（名称・長・閉庁日）")
def read_organisation(services: ServicesDep, actor: ActorDep) -> OrganisationOut:
    organisation = organisation_settings.own_organisation(services.db, actor)
    return organisation_out(organisation, organisation_settings.closed_days_ahead(organisation, local_today(services.clock)))


@router.patch("/api/organisation", summary="団体の名称・長・閉庁日を変更する（事務局；送った項目だけが変わる）")
def change_organisation(data: OrganisationChange, services: ServicesDep, actor: ActorDep) -> OrganisationOut:
    organisation = organisation_settings.change(services.db, services.clock, actor, data)
    return organisation_out(organisation, organisation_settings.closed_days_ahead(organisation, local_today(services.clock)))


@router.post("/api/tokens", status_code=status.HTTP_201_CREATED, summary="APIトークンを発行する（一度だけ表示）")
def create_token(data: NewToken, services: ServicesDep, actor: ActorDep) -> IssuedTokenOut:
    issued = accounts.create_token(services.db, services.clock, None, actor, name=data.name,
                                   lifetime=timedelta(days=data.days))
    return issued_token_out(issued.token, issued.record)


@router.get("/api/tokens", summary="自分のAPIトークン")
def list_tokens(services: ServicesDep, actor: ActorDep) -> list[TokenOut]:
    return [token_out(record) for record in accounts.tokens_of(services.db, actor)]


@router.delete("/api/tokens/{token_id}", summary="APIトークンを失効させる")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=MAX_ID)], services: ServicesDep,
                 actor: ActorDep) -> TokenOut:
    return token_out(accounts.revoke_token(services.db, services.clock, token_id, actor))


@router.post("/api/users", status_code=status.HTTP_201_CREATED, summary="利用者を登録する（管理者）")
def add_user(data: NewUser, services: ServicesDep, actor: ActorDep) -> UserOut:
    return user_out(accounts.add_user(services.db, services.clock, data, actor))


@router.get("/api/users", summary="利用者の一覧（管理者）")
def list_users(services: ServicesDep, actor: ActorDep) -> list[UserOut]:
    return [user_out(user) for user in accounts.users(services.db, actor)]


@router.post("/api/users/{email}/disable", summary="利用者を無効にする（管理者）")
def disable_user(email: Annotated[EmailText, Path()], services: ServicesDep, actor: ActorDep) -> UserOut:
    return user_out(accounts.disable_user(services.db, services.clock, email, actor))


@router.get("/api/audit", summary="監査記録（事務局・管理者）")
def audit_trail(services: ServicesDep, actor: ActorDep,
                after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AuditEntryOut]:
    return [audit_entry_out(entry) for entry in audit.entries(services.db, actor, after_id=after_id, limit=limit)]


@router.get("/api/audit/verify", summary="監査記録の改ざん検査")
def audit_verify(services: ServicesDep, actor: ActorDep) -> AuditVerdictOut:
    return audit_verdict_out(audit.verify(services.db, actor))


class CheckpointIn(BaseModel):
    """A checkpoint taken earlier (POST /api/audit/checkpoint), as it was kept."""

    model_config = ConfigDict(extra="forbid")
    seq: Annotated[int, Field(ge=0, le=MAX_ID), JSON_INTEGER]
    length: Annotated[int, Field(ge=0, le=MAX_ID, description="the same number as seq (rule `same_as_seq`)"),
                      JSON_INTEGER]
    hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    at: RecordInstant = Field(description="ISO 8601 with its offset, as the checkpoint gave it")

    @field_validator("length")
    @classmethod
    def _whole_chain(cls, length: int, info: ValidationInfo) -> int:
        if "seq" in info.data and length != info.data["seq"]:  # a whole chain numbers its entries 1…length
            raise refusal("same_as_seq", "length には seq と同じ数を指定してください（チェックポイントのとおり）。",
                          "length is the same number as seq, as the checkpoint gave it.")
        return length


@router.post("/api/audit/verify", summary="監査記録の改ざん検査（チェックポイントと照合）")
def audit_verify_against(checkpoint: CheckpointIn, services: ServicesDep, actor: ActorDep) -> AuditVerdictOut:
    """Also detects, since the checkpoint, entries deleted at the tail or history rewritten with the head row."""
    kept = audit.Checkpoint(seq=checkpoint.seq, length=checkpoint.length, hash=checkpoint.hash, at=checkpoint.at)
    return audit_verdict_out(audit.verify(services.db, actor, checkpoint=kept))


@router.post("/api/audit/checkpoint", summary="監査記録のチェックポイントを取得する（データベースの外に保管）")
def audit_checkpoint(services: ServicesDep, actor: ActorDep) -> AuditCheckpointOut:
    """Where the chain ends now (pending entries sealed first). Keep it outside the database: verifying
    against it later shows entries deleted or rewritten up to it, which the database alone cannot."""
    return audit_checkpoint_out(audit.checkpoint(services.db, actor, services.clock.now()))
