"""Documents (資料) of a case: upload, list, describe, download — under the policy's classification rules."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import File, Form, Path, UploadFile, status
from fastapi.responses import JSONResponse, Response

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, ErrorBody, error_response
from api.limits import MAX_FILENAME
from api.routing import Router
from api.schemas.documents import DocumentOut, document_out
from workflow import documents
from workflow.cases import MAX_ID
from workflow.documents import DocumentGone, Upload
from workflow.policy import Classification
from workflow.validation import Text200

router = Router(tags=["documents"], responses=ERROR_RESPONSES)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
#: The content answers with the document's own type (PDF, Word …: the kinds an upload may be), not JSON.
CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {media: {"schema": {"type": "string", "format": "binary"}}
                      for media in sorted(set(documents.KINDS.values()))},
          "description": "資料の内容 / the document, as uploaded"},
    410: {"model": ErrorBody, "description": "点検終了後に削除済み / purged after the review"},
}


@router.post("/api/assessments/{case_id}/documents", status_code=status.HTTP_201_CREATED,
             summary="資料を登録する（PDF・Word・Excel・画像）")
async def upload(
    case_id: Id, services: ServicesDep, actor: ActorDep,
    file: Annotated[UploadFile, File(description=f"PDF, Word, Excel, PNG or JPEG (its name at most {MAX_FILENAME} characters)")],
    title: Annotated[Text200, Form(description="資料名 (e.g. 資料2 ログのイメージ)")],
    classification: Annotated[Classification, Form(description="public | members_only | members_only_delete_after_review")]
    = Classification.PUBLIC,
) -> DocumentOut:
    limit = services.options.max_upload_bytes
    content = await file.read(limit + 1)  # one byte more than allowed tells "too large" without reading it all
    document = documents.attach(
        services.db, services.files, services.clock, case_id,
        Upload(title=title, filename=file.filename or "document", content=content,
               classification=classification),
        actor, limit,
    )
    return document_out(document)


@router.get("/api/assessments/{case_id}/documents", summary="案件の資料一覧（閲覧できるものだけ）")
def list_documents(case_id: Id, services: ServicesDep, actor: ActorDep) -> list[DocumentOut]:
    return [document_out(document) for document in documents.documents_of(services.db, case_id, actor)]


@router.get("/api/documents/{document_id}", summary="資料の情報")
def describe(document_id: Id, services: ServicesDep, actor: ActorDep) -> DocumentOut:
    return document_out(documents.describe(services.db, document_id, actor))


@router.get("/api/documents/{document_id}/content", summary="資料の内容（委員限りの閲覧は監査記録に残る）",
            response_class=Response, responses=CONTENT)
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
