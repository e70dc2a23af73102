"""The body's opinion, the subcommittee report and the reply (答申), and the generated documents."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Path, Query, status
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.routing import Router
from api.schemas.deliberation import OpinionOut, ResolutionOut, opinion_out, resolution_out
from notifications import papers
from notifications.register import DOCX_MAX_ROWS, RegisterFilter
from workflow import resolutions
from workflow.cases import MAX_ID
from workflow.resolutions import OpinionInput, ResolutionKind
from workflow.validation import RecordDate, Text64OrEmpty, Text100OrEmpty, Text200, Text300, Text100000

router = Router(tags=["deliberation"], responses=ERROR_RESPONSES)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Format = Literal["html", "docx"]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _formats(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """A paper's 200, in each format `format=` chooses (html, then docx, then xlsx)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    content = {"text/html": {"schema": {"type": "string"}}, **{media: binary for media in media_types}}
    return {200: {"description": "the paper, in the format asked for (`format`)", "content": content}}


#: What a paper answers (`response_class=Response` keeps FastAPI from naming one content type).
PAPER = _formats(DOCX)
REGISTER = _formats(DOCX, XLSX)


class NewResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ResolutionKind
    title: Text300 | None = None
    text: Text100000 | None = Field(default=None, description="omit to draft from the record")


class Delegation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chair: Text200 = Field(description="会長一任: the chair who finalises the wording")


class Adoption(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adopted_on: RecordDate
    adopted_by: Text200


@router.put("/api/assessments/{case_id}/opinion", summary="部会の意見を記録する")
def record_opinion(case_id: Id, data: OpinionInput, services: ServicesDep, actor: ActorDep) -> OpinionOut:
    return opinion_out(resolutions.record_opinion(services.db, services.clock, case_id, data, actor))


@router.get("/api/assessments/{case_id}/resolutions", summary="部会報告・答申（全周期）")
def list_resolutions(case_id: Id, services: ServicesDep, actor: ActorDep) -> list[ResolutionOut]:
    return [resolution_out(r) for r in resolutions.resolutions_of(services.db, case_id, actor)]


@router.post("/api/assessments/{case_id}/resolutions", status_code=status.HTTP_201_CREATED,
             summary="部会報告・答申の案を作成する（本文を省略すると記録から作成）")
def draft_resolution(case_id: Id, data: NewResolution, services: ServicesDep, actor: ActorDep) -> ResolutionOut:
    text = data.text
    if text is None:
        maker = (services.papers.subcommittee_report if data.kind is ResolutionKind.SUBCOMMITTEE_REPORT
                 else services.papers.reply)
        text = maker(case_id, actor).text()
    return resolution_out(resolutions.draft(services.db, services.clock, case_id, data.kind, actor, text=text,
                                            title=data.title))


@router.post("/api/resolutions/{resolution_id}/delegate", summary="会長一任とする")
def delegate(resolution_id: Id, data: Delegation, services: ServicesDep, actor: ActorDep) -> ResolutionOut:
    return resolution_out(resolutions.delegate_to_chair(services.db, services.clock, resolution_id, data.chair, actor))


@router.post("/api/resolutions/{resolution_id}/adopt", summary="確定する（部会報告・答申）")
def adopt(resolution_id: Id, data: Adoption, services: ServicesDep, actor: ActorDep) -> ResolutionOut:
    return resolution_out(resolutions.adopt(services.db, services.clock, resolution_id, data.adopted_on,
                                            data.adopted_by, actor))


def _deliver(paper: papers.Paper, output: str) -> Response:
    if output == "html":
        return HTMLResponse(paper.html)
    if output == "xlsx":
        body, media, suffix = paper.xlsx(), XLSX, "xlsx"
    else:
        body, media, suffix = paper.docx(), DOCX, "docx"
    filename = quote(f"{paper.title}.{suffix}")
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})


@router.get("/api/papers/convocation/{meeting_id}", summary="開催通知", response_class=Response,
            responses=PAPER)
def convocation(meeting_id: Id, services: ServicesDep, actor: ActorDep, format: Format = "html") -> Response:
    return _deliver(services.papers.convocation(meeting_id, actor), format)


@router.get("/api/papers/meeting-result/{meeting_id}", summary="会議結果報告", response_class=Response,
            responses=PAPER)
def meeting_result(meeting_id: Id, services: ServicesDep, actor: ActorDep, format: Format = "html") -> Response:
    return _deliver(services.papers.meeting_result(meeting_id, actor),
                    format)


@router.get("/api/papers/subcommittee-report/{case_id}", summary="部会報告", response_class=Response,
            responses=PAPER)
def subcommittee_report(case_id: Id, services: ServicesDep, actor: ActorDep, format: Format = "html") -> Response:
    return _deliver(services.papers.subcommittee_report(case_id, actor),
                    format)


@router.get("/api/papers/findings/{case_id}", summary="委員からの質問事項及び回答", response_class=Response,
            responses=PAPER)
def findings(case_id: Id, services: ServicesDep, actor: ActorDep, format: Format = "html") -> Response:
    return _deliver(services.papers.findings(case_id, actor), format)


@router.get("/api/papers/reply/{case_id}", summary="答申書", response_class=Response,
            responses=PAPER)
def reply(case_id: Id, services: ServicesDep, actor: ActorDep, format: Format = "html") -> Response:
    return _deliver(services.papers.reply(case_id, actor), format)


@router.get("/api/papers/public-comment-result/{case_id}", summary="意見募集の結果", response_class=Response,
            responses=PAPER)
def public_comment_result(case_id: Id, services: ServicesDep, actor: ActorDep, format: Format = "html") -> Response:
    return _deliver(services.papers.public_comment_result(case_id, actor), format)


@router.get("/api/papers/register", summary="計画管理書", response_class=Response,
            responses=REGISTER)
def register(
    services: ServicesDep,
    actor: ActorDep,
    format: Annotated[Literal["html", "docx", "xlsx"], Query(
        description=f"html and xlsx are written as they are read, whatever the length; docx up to "
                    f"{DOCX_MAX_ROWS:,} cases (rule `max_rows`)")] = "html",
    office: Annotated[Text100OrEmpty | None, Query(description="実施機関")] = None,
    procedure: Annotated[Text64OrEmpty | None, Query(description="手続")] = None,
    state: Annotated[Text64OrEmpty | None, Query(description="状態")] = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 in which the case was opened "
                                                                           "(April to March; 2025 is 令和7年度)")] = None,
) -> Response:
    which = RegisterFilter(office=office, procedure=procedure, state=state, fiscal_year=fiscal_year)
    register = services.papers.register(actor, which)
    if format == "docx":
        return _deliver(register.paper(), format)
    filename = quote(f"{register.title}.{format}")
    disposition = {"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"}
    if format == "xlsx":
        path = register.xlsx_file()
        return FileResponse(path, media_type=XLSX, headers=disposition, background=BackgroundTask(path.unlink))
    return StreamingResponse((chunk.encode("utf-8") for chunk in register.html()), media_type="text/html; charset=utf-8")
