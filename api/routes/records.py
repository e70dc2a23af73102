"""The deliberation record of a case: findings (質問事項), report versions (修正箇所), public comments."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.routing import Router
from api.schemas.records import (
    ChangeListItemOut,
    DispositionOut,
    FindingOut,
    NumberedFindingOut,
    PublicCommentOut,
    VersionOut,
    change_item_out,
    comment_out,
    disposition_out,
    finding_out,
    numbered_finding_out,
    version_out,
)
from workflow import findings, public_comments, report_versions
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
from workflow.public_comments import CommentResponse, NewPublicComment
from workflow.report_versions import NewReportVersion

router = Router(tags=["records"], responses=ERROR_RESPONSES)

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="case (assessment) id")]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Cycle = Annotated[int | None, Query(ge=1, le=MAX_CYCLE, description="周期（省略時は現在の周期）")]


# --- findings -----------------------------------------------------------------------------------

@router.post("/api/assessments/{case_id}/findings", status_code=201,
             summary="委員の質問・意見を登録する（会議での発言は事務局、書面は委員本人）")
def raise_finding(case_id: CaseId, data: NewFinding, services: ServicesDep, actor: ActorDep) -> FindingOut:
    return finding_out(findings.raise_finding(services.db, services.clock, case_id, data, actor))


@router.get("/api/assessments/{case_id}/findings", summary="質問・意見の一覧（状態で絞り込み可）")
def list_findings(case_id: CaseId, services: ServicesDep, actor: ActorDep,
                  status: FindingStatus | None = Query(default=None, description="open | answered | closed | carried"),
                  cycle: Cycle = None) -> list[FindingOut]:
    return [finding_out(f) for f in findings.list_findings(services.db, case_id, actor, status=status, cycle=cycle)]


@router.get("/api/assessments/{case_id}/findings/open",
            summary="委員からの質問事項（次回会議の資料: 未回答・回答済・持ち越し）")
def open_findings(case_id: CaseId, services: ServicesDep, actor: ActorDep) -> list[NumberedFindingOut]:
    return [numbered_finding_out(no, finding)
            for no, finding in enumerate(findings.open_findings(services.db, case_id, actor), start=1)]


@router.post("/api/findings/{finding_id}/answer", summary="質問・意見に回答する（実施機関）")
def answer_finding(finding_id: Id, data: FindingAnswer, services: ServicesDep, actor: ActorDep) -> FindingOut:
    return finding_out(findings.answer_finding(services.db, services.clock, finding_id, data, actor))


@router.post("/api/findings/{finding_id}/close", summary="質問・意見を終了する（事務局）")
def close_finding(finding_id: Id, data: FindingClose, services: ServicesDep, actor: ActorDep) -> FindingOut:
    return finding_out(findings.close_finding(services.db, services.clock, finding_id, data, actor))


@router.post("/api/findings/{finding_id}/carry", summary="質問・意見を次回の会議に持ち越す（事務局）")
def carry_finding(finding_id: Id, data: FindingCarry, services: ServicesDep, actor: ActorDep) -> FindingOut:
    return finding_out(findings.carry_finding(services.db, services.clock, finding_id, data, actor))


@router.post("/api/findings/{finding_id}/reopen", summary="質問・意見を再開する（事務局）")
def reopen_finding(finding_id: Id, data: FindingReopen, services: ServicesDep, actor: ActorDep) -> FindingOut:
    return finding_out(findings.reopen_finding(services.db, services.clock, finding_id, data, actor))


# --- report versions ----------------------------------------------------------------------------

@router.post("/api/assessments/{case_id}/versions", status_code=201,
             summary="評価書の版を登録する（修正箇所・非公開部分とともに）")
def add_version(case_id: CaseId, data: NewReportVersion, services: ServicesDep, actor: ActorDep) -> VersionOut:
    return version_out(report_versions.add_version(services.db, services.clock, case_id, data, actor))


@router.get("/api/assessments/{case_id}/versions", summary="評価書の版の一覧")
def list_versions(case_id: CaseId, services: ServicesDep, actor: ActorDep, cycle: Cycle = None) -> list[VersionOut]:
    return [version_out(entry) for entry in report_versions.versions_of(services.db, case_id, actor, cycle=cycle)]


@router.get("/api/assessments/{case_id}/changes", summary="修正箇所一覧（修正前・修正後と、対応する質問・意見）")
def list_changes(case_id: CaseId, services: ServicesDep, actor: ActorDep,
                 cycle: Cycle = None) -> list[ChangeListItemOut]:
    return [change_item_out(entry) for entry in report_versions.changes_of(services.db, case_id, actor, cycle=cycle)]


# --- public comments ----------------------------------------------------------------------------

@router.post("/api/assessments/{case_id}/public-comments", status_code=201,
             summary="住民等の意見を登録する（意見聴取期間内の受付分）")
def record_comment(case_id: CaseId, data: NewPublicComment, services: ServicesDep,
                   actor: ActorDep) -> PublicCommentOut:
    return comment_out(public_comments.record_comment(services.db, services.clock, case_id, data, actor))


@router.get("/api/assessments/{case_id}/public-comments", summary="住民等の意見の一覧")
def list_comments(case_id: CaseId, services: ServicesDep, actor: ActorDep,
                  cycle: Cycle = None) -> list[PublicCommentOut]:
    return [comment_out(c) for c in public_comments.comments_of(services.db, case_id, actor, cycle=cycle)]


@router.patch("/api/public-comments/{comment_id}",
              summary="意見に対する実施機関の考え方と、修正箇所または修正しない理由を記録する")
def respond(comment_id: Id, data: CommentResponse, services: ServicesDep, actor: ActorDep) -> PublicCommentOut:
    return comment_out(public_comments.respond(services.db, services.clock, comment_id, data, actor))


@router.get("/api/assessments/{case_id}/public-comments/disposition",
            summary="意見の概要と実施機関の考え方（意見がなかった場合は0件、件数の不一致は警告）")
def disposition(case_id: CaseId, services: ServicesDep, actor: ActorDep) -> DispositionOut:
    return disposition_out(public_comments.disposition(services.db, case_id, actor))
