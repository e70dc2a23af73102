"""Documents (資料) of a case: upload, list, describe, download — under the policy's classification rules."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import File, Form, Path, UploadFile, status
from fastapi.responses import JSONResponse, Response

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, error_response
from api.routing import Router
from workflow import documents
from workflow.cases import MAX_ID
from workflow.documents import DocumentGone, Upload
from workflow.models import Document
from workflow.policy import Classification

router = Router(tags=["documents"], responses=ERROR_RESPONSES)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def document_out(document: Document) -> dict[str, Any]:
    return {
        "id": document.id, "assessment_id": document.assessment_id, "title": document.title,
        "filename": document.filename, "content_type": document.content_type, "size": document.size,
        "sha256": document.sha256, "classification": document.classification,
        "uploaded_at": document.uploaded_at, "purged_at": document.purged_at, "purge_reason": document.purge_reason,
        "content_url": None if document.purged_at else f"/api/documents/{document.id}/content",
    }


@router.post("/api/assessments/{case_id}/documents", status_code=status.HTTP_201_CREATED,
             summary="資料を登録する（PDF・Word・Excel・画像）")
async def upload(
    case_id: Id, services: ServicesDep, actor: ActorDep,
    file: Annotated[UploadFile, File(description="PDF, Word, Excel, PNG or JPEG")],
    title: Annotated[str, Form(min_length=1, max_length=200, description="資料名 (e.g. 資料2 ログのイメージ)")],
    classification: Annotated[Classification, Form(description="public | members_only | members_only_delete_after_review")]
    = Classification.PUBLIC,
) -> dict:
    limit = services.options.max_upload_bytes
    content = await file.read(limit + 1)  # one byte more than allowed tells "too large" without reading it all
    document = documents.attach(
        services.db, services.files, services.clock, case_id,
        Upload(title=title.strip(), filename=file.filename or "document", content=content,
               classification=classification),
        actor, limit,
    )
    return document_out(document)


@router.get("/api/assessments/{case_id}/documents", summary="案件の資料一覧（閲覧できるものだけ）")
def list_documents(case_id: Id, services: ServicesDep, actor: ActorDep) -> list[dict]:
    return [document_out(document) for document in documents.documents_of(services.db, case_id, actor)]


@router.get("/api/documents/{document_id}", summary="資料の情報")
def describe(document_id: Id, services: ServicesDep, actor: ActorDep) -> dict:
    return document_out(documents.describe(services.db, document_id, actor))


@router.get("/api/documents/{document_id}/content", summary="資料の内容（委員限りの閲覧は監査記録に残る）",
            responses={410: {"description": "点検終了後に削除済み / purged after the review"}})
def content(document_id: Id, services: ServicesDep, actor: ActorDep) -> Response:
    try:
        document, body = documents.read(services.db, services.files, services.clock, document_id, actor)
    except DocumentGone as gone:
        response: JSONResponse = error_response(410, gone.code, gone.message)
        return response
    disposition = f"attachment; filename*=UTF-8''{quote(document.filename)}"
    headers = {"Content-Disposition": disposition, "Cache-Control": "private, no-store",
               "X-Content-Type-Options": "nosniff"}
    return Response(body, media_type=document.content_type, headers=headers)
