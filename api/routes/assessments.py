"""/api/assessments: create, list, read, fire events, read the history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.routing import Router
from api.schemas.cases import AssessmentOut, AssessmentPage, HistoryOut, assessment_out, history_out
from workflow import service
from workflow.cases import MAX_ID
from workflow.service import AssessmentFilter, NewAssessment, NewConsultation
from workflow.validation import JSON_INTEGER, Text20OrEmpty, Text64, Text64OrEmpty, Text100OrEmpty, Text2000

router = Router(prefix="/api/assessments", tags=["assessments"], responses=ERROR_RESPONSES)
consultations = Router(prefix="/api/consultations", tags=["assessments"], responses=ERROR_RESPONSES)

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="assessment id")]


class EventRequest(BaseModel):
    """Fire an event. Any further keys are the event's inputs (see `allowed_events[].inputs`)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "event": "open_public_comment", "expected_version": 1,
        "comment_start": "2015-06-22", "comment_end": "2015-07-21", "note": "市のホームページ等で実施",
    }]})

    event: Text64
    expected_version: Annotated[int, Field(ge=1, le=MAX_ID, description="the version you last read"), JSON_INTEGER]
    note: Text2000 | None = None


@router.post("", status_code=status.HTTP_201_CREATED, summary="評価を登録する（しきい値判断により評価の種類と手続が決まる）")
def create_assessment(data: NewAssessment, services: ServicesDep, actor: ActorDep,
                      response: Response) -> AssessmentOut:
    case = service.create_assessment(services.db, services.workflows, services.clock, data, actor)
    response.headers["Location"] = f"/api/assessments/{case.id}"
    return assessment_out(case, services.workflows)


@consultations.post("", status_code=status.HTTP_201_CREATED, summary="諮問を登録する（オンライン結合・再委託・条例改正など）")
def create_consultation(data: NewConsultation, services: ServicesDep, actor: ActorDep,
                        response: Response) -> AssessmentOut:
    case = service.create_consultation(services.db, services.workflows, services.clock, data, actor)
    response.headers["Location"] = f"/api/assessments/{case.id}"
    return assessment_out(case, services.workflows)


@router.get("", summary="案件（評価・諮問）の一覧")
def list_assessments(
    services: ServicesDep,
    actor: ActorDep,
    state: Annotated[Text64OrEmpty | None, Query()] = None,
    level: Literal["basic", "focused", "full"] | None = None,
    office: Annotated[Text100OrEmpty | None, Query()] = None,
    procedure: Annotated[Text64OrEmpty | None, Query()] = None,
    kind: Literal["assessment", "consultation"] | None = None,
    organisation: Annotated[Text20OrEmpty | None, Query(
        description="団体コード: the cases of this organisation only (users see their own organisation's anyway)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AssessmentPage:
    page = service.list_assessments(
        services.db, AssessmentFilter(state=state, level=level, office=office, procedure=procedure, kind=kind,
                                      organisation=organisation or None), limit, offset,
        actor,
    )
    return AssessmentPage(items=[assessment_out(case, services.workflows) for case in page.items],
                          total=page.total, limit=page.limit, offset=page.offset)


@router.get("/{case_id}", summary="評価（現在の状態と、今できる手続）")
def get_assessment(case_id: CaseId, services: ServicesDep, actor: ActorDep) -> AssessmentOut:
    return assessment_out(service.get_assessment(services.db, case_id, actor), services.workflows)


@router.post("/{case_id}/events", summary="手続を進める（イベントを実行する）")
def fire_event(case_id: CaseId, request: EventRequest, services: ServicesDep, actor: ActorDep) -> AssessmentOut:
    case = service.advance(
        services.db, services.workflows, services.clock, case_id,
        event=request.event, expected_version=request.expected_version, inputs=request.model_extra or {},
        actor=actor, note=request.note, files=services.files,
    )
    return assessment_out(case, services.workflows)


@router.get("/{case_id}/history", summary="経過（全周期の履歴）")
def get_history(case_id: CaseId, services: ServicesDep, actor: ActorDep) -> list[HistoryOut]:
    return [history_out(entry) for entry in service.history(services.db, case_id, actor)]
