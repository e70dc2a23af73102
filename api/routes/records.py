"""The deliberation record of a case: findings (質問事項), report versions (修正箇所), public comments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, LocalisedText
from api.routing import Router
from workflow import findings, lifecycle, public_comments, report_versions
from workflow.findings import (
    MAX_CYCLE,
    MAX_ID,
    FindingAnswer,
    FindingCarry,
    FindingClose,
    FindingReopen,
    FindingStatus,
    NewFinding,
)
from workflow.lifecycle import FINDING
from workflow.public_comments import CommentResponse, Disposition, NewPublicComment
from workflow.records import Finding, PublicComment, ReportChange
from workflow.report_versions import ChangeEntry, NewReportVersion, VersionEntry

router = Router(tags=["records"], responses=ERROR_RESPONSES)

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="case (assessment) id")]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Cycle = Annotated[int | None, Query(ge=1, le=MAX_CYCLE, description="周期（省略時は現在の周期）")]


# --- response shapes ----------------------------------------------------------------------------

class MoveOut(BaseModel):
    name: str
    title: LocalisedText
    to: str


class FindingOut(BaseModel):
    id: int
    assessment_id: int
    cycle: int
    meeting_id: int | None
    raised_by: str
    raised_on: date
    kind: str
    section: str | None
    text: str
    answer: str | None
    answered_on: date | None
    answered_at_meeting_id: int | None
    status: str
    status_title: LocalisedText
    carried_to_meeting_id: int | None
    resolved_in_version_id: int | None
    moves: list[MoveOut]
    created_at: datetime
    updated_at: datetime


class NumberedFindingOut(FindingOut):
    no: int


def finding_out(finding: Finding) -> dict:
    state = FindingStatus(finding.status)
    return {
        **finding.model_dump(exclude={"raised_by_user_id"}),
        "status_title": state.title.as_dict(),
        "moves": lifecycle.allowed(FINDING, state),
    }


class ChangeOut(BaseModel):
    id: int
    position: int
    section: str
    before: str
    after: str
    reason: str
    finding_ids: list[int]


class WithheldOut(BaseModel):
    section: str
    reason: str


class VersionOut(BaseModel):
    id: int
    assessment_id: int
    cycle: int
    number: int
    label: str
    submitted_on: date
    note: str | None
    document_id: int | None
    public_document_id: int | None
    changes: list[ChangeOut]
    withheld: list[WithheldOut]
    created_at: datetime


def _change(change: ReportChange) -> dict:
    return {"id": change.id, "position": change.position, "section": change.section, "before": change.before,
            "after": change.after, "reason": change.reason, "finding_ids": list(change.finding_ids)}


def version_out(entry: VersionEntry) -> dict:
    version = entry.version
    return {
        "id": version.id, "assessment_id": version.assessment_id, "cycle": version.cycle, "number": version.number,
        "label": version.label, "submitted_on": version.submitted_on, "note": version.note,
        "document_id": entry.document_id, "public_document_id": entry.public_document_id,
        "changes": [_change(change) for change in entry.changes],
        "withheld": [{"section": part.section, "reason": part.reason} for part in entry.withheld],
        "created_at": version.created_at,
    }


class AnsweredFindingOut(BaseModel):
    id: int
    raised_by: str
    kind: str
    section: str | None
    text: str
    status: str


class ChangeListItemOut(ChangeOut):
    """One line of the 修正箇所一覧."""

    version_id: int
    version_number: int
    version_label: str
    submitted_on: date
    cycle: int
    findings: list[AnsweredFindingOut]


def change_item_out(entry: ChangeEntry) -> dict:
    return {
        **_change(entry.change), "version_id": entry.version.id, "version_number": entry.version.number,
        "version_label": entry.version.label, "submitted_on": entry.version.submitted_on,
        "cycle": entry.version.cycle,
        "findings": [{"id": f.id, "raised_by": f.raised_by, "kind": f.kind, "section": f.section, "text": f.text,
                      "status": f.status} for f in entry.findings],
    }


class PublicCommentOut(BaseModel):
    id: int
    assessment_id: int
    cycle: int
    received_on: date
    channel: str
    submitter: str
    summary: str
    response: str | None
    change_id: int | None
    no_change_reason: str | None
    created_at: datetime


def comment_out(comment: PublicComment) -> dict:
    return comment.model_dump()


class DispositionChangeOut(BaseModel):
    id: int
    version_number: int | None
    section: str
    before: str
    after: str


class DispositionRowOut(BaseModel):
    no: int
    comment_id: int
    received_on: date
    channel: str
    submitter: str
    summary: str
    response: str | None
    change: DispositionChangeOut | None
    no_change_reason: str | None


class PeriodOut(BaseModel):
    start: date
    end: date
    days: int
    shortened_reason: str | None


class DispositionOut(BaseModel):
    assessment_id: int
    cycle: int
    period: PeriodOut | None
    closed: bool
    count: int
    recorded: int
    consistent: bool
    pending: int
    warnings: list[LocalisedText]
    statement: LocalisedText | None
    rows: list[DispositionRowOut]


def disposition_out(table: Disposition) -> dict:
    period = None
    if table.period is not None:
        period = {"start": table.period[0], "end": table.period[1], "days": table.period_days,
                  "shortened_reason": table.shortened_reason}
    return {
        "assessment_id": table.case_id, "cycle": table.cycle, "period": period, "closed": table.closed,
        "count": table.count, "recorded": table.recorded, "consistent": table.consistent, "pending": table.pending,
        "warnings": [warning.as_dict() for warning in table.warnings],
        "statement": table.statement.as_dict() if table.statement else None,
        "rows": [{
            "no": row.no, "comment_id": row.comment.id, "received_on": row.comment.received_on,
            "channel": row.comment.channel, "submitter": row.comment.submitter, "summary": row.comment.summary,
            "response": row.comment.response, "no_change_reason": row.comment.no_change_reason,
            "change": None if row.change is None else {
                "id": row.change.id, "version_number": row.change_version.number if row.change_version else None,
                "section": row.change.section, "before": row.change.before, "after": row.change.after},
        } for row in table.rows],
    }


# --- findings -----------------------------------------------------------------------------------

@router.post("/api/assessments/{case_id}/findings", status_code=201, response_model=FindingOut,
             summary="委員の質問・意見を登録する（会議での発言は事務局、書面は委員本人）")
def raise_finding(case_id: CaseId, data: NewFinding, services: ServicesDep, actor: ActorDep) -> dict:
    return finding_out(findings.raise_finding(services.db, services.clock, case_id, data, actor))


@router.get("/api/assessments/{case_id}/findings", response_model=list[FindingOut],
            summary="質問・意見の一覧（状態で絞り込み可）")
def list_findings(case_id: CaseId, services: ServicesDep, actor: ActorDep,
                  status: FindingStatus | None = Query(default=None, description="open | answered | closed | carried"),
                  cycle: Cycle = None) -> list[dict]:
    return [finding_out(f) for f in findings.list_findings(services.db, case_id, actor, status=status, cycle=cycle)]


@router.get("/api/assessments/{case_id}/findings/open", response_model=list[NumberedFindingOut],
            summary="委員からの質問事項（次回会議の資料: 未回答・回答済・持ち越し）")
def open_findings(case_id: CaseId, services: ServicesDep, actor: ActorDep) -> list[dict]:
    return [{"no": no, **finding_out(finding)}
            for no, finding in enumerate(findings.open_findings(services.db, case_id, actor), start=1)]


@router.post("/api/findings/{finding_id}/answer", response_model=FindingOut, summary="質問・意見に回答する（実施機関）")
def answer_finding(finding_id: Id, data: FindingAnswer, services: ServicesDep, actor: ActorDep) -> dict:
    return finding_out(findings.answer_finding(services.db, services.clock, finding_id, data, actor))


@router.post("/api/findings/{finding_id}/close", response_model=FindingOut, summary="質問・意見を終了する（事務局）")
def close_finding(finding_id: Id, data: FindingClose, services: ServicesDep, actor: ActorDep) -> dict:
    return finding_out(findings.close_finding(services.db, services.clock, finding_id, data, actor))


@router.post("/api/findings/{finding_id}/carry", response_model=FindingOut,
             summary="質問・意見を次回の会議に持ち越す（事務局）")
def carry_finding(finding_id: Id, data: FindingCarry, services: ServicesDep, actor: ActorDep) -> dict:
    return finding_out(findings.carry_finding(services.db, services.clock, finding_id, data, actor))


@router.post("/api/findings/{finding_id}/reopen", response_model=FindingOut, summary="質問・意見を再開する（事務局）")
def reopen_finding(finding_id: Id, data: FindingReopen, services: ServicesDep, actor: ActorDep) -> dict:
    return finding_out(findings.reopen_finding(services.db, services.clock, finding_id, data, actor))


# --- report versions ----------------------------------------------------------------------------

@router.post("/api/assessments/{case_id}/versions", status_code=201, response_model=VersionOut,
             summary="評価書の版を登録する（修正箇所・非公開部分とともに）")
def add_version(case_id: CaseId, data: NewReportVersion, services: ServicesDep, actor: ActorDep) -> dict:
    return version_out(report_versions.add_version(services.db, services.clock, case_id, data, actor))


@router.get("/api/assessments/{case_id}/versions", response_model=list[VersionOut], summary="評価書の版の一覧")
def list_versions(case_id: CaseId, services: ServicesDep, actor: ActorDep, cycle: Cycle = None) -> list[dict]:
    return [version_out(entry) for entry in report_versions.versions_of(services.db, case_id, actor, cycle=cycle)]


@router.get("/api/assessments/{case_id}/changes", response_model=list[ChangeListItemOut],
            summary="修正箇所一覧（修正前・修正後と、対応する質問・意見）")
def list_changes(case_id: CaseId, services: ServicesDep, actor: ActorDep, cycle: Cycle = None) -> list[dict]:
    return [change_item_out(entry) for entry in report_versions.changes_of(services.db, case_id, actor, cycle=cycle)]


# --- public comments ----------------------------------------------------------------------------

@router.post("/api/assessments/{case_id}/public-comments", status_code=201,
             response_model=PublicCommentOut, summary="住民等の意見を登録する（意見聴取期間内の受付分）")
def record_comment(case_id: CaseId, data: NewPublicComment, services: ServicesDep, actor: ActorDep) -> dict:
    return comment_out(public_comments.record_comment(services.db, services.clock, case_id, data, actor))


@router.get("/api/assessments/{case_id}/public-comments", response_model=list[PublicCommentOut],
            summary="住民等の意見の一覧")
def list_comments(case_id: CaseId, services: ServicesDep, actor: ActorDep, cycle: Cycle = None) -> list[dict]:
    return [comment_out(c) for c in public_comments.comments_of(services.db, case_id, actor, cycle=cycle)]


@router.patch("/api/public-comments/{comment_id}", response_model=PublicCommentOut,
              summary="意見に対する実施機関の考え方と、修正箇所または修正しない理由を記録する")
def respond(comment_id: Id, data: CommentResponse, services: ServicesDep, actor: ActorDep) -> dict:
    return comment_out(public_comments.respond(services.db, services.clock, comment_id, data, actor))


@router.get("/api/assessments/{case_id}/public-comments/disposition", response_model=DispositionOut,
            summary="意見の概要と実施機関の考え方（意見がなかった場合は0件、件数の不一致は警告）")
def disposition(case_id: CaseId, services: ServicesDep, actor: ActorDep) -> dict:
    return disposition_out(public_comments.disposition(services.db, case_id, actor))
