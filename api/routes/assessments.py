"""/api/assessments: create, list, read, fire events, read the history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Response, status

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.routing import Router
from api.schemas import AssessmentOut, AssessmentPage, EventRequest, HistoryOut, assessment_out, history_out
from workflow import service
from workflow.cases import MAX_ID
from workflow.service import AssessmentFilter, NewAssessment, NewConsultation

router = Router(prefix="/api/assessments", tags=["assessments"], responses=ERROR_RESPONSES)
consultations = Router(prefix="/api/consultations", tags=["assessments"], responses=ERROR_RESPONSES)

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="assessment id")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AssessmentOut,
             summary="評価を登録する（しきい値判断により評価の種類と手続が決まる）")
def create_assessment(data: NewAssessment, services: ServicesDep, actor: ActorDep, response: Response) -> dict:
    case = service.create_assessment(services.db, services.workflows, services.clock, data, actor)
    response.headers["Location"] = f"/api/assessments/{case.id}"
    return assessment_out(case, services.workflows)


@consultations.post("", status_code=status.HTTP_201_CREATED, response_model=AssessmentOut,
                    summary="諮問を登録する（オンライン結合・再委託・条例改正など）")
def create_consultation(data: NewConsultation, services: ServicesDep, actor: ActorDep, response: Response) -> dict:
    case = service.create_consultation(services.db, services.workflows, services.clock, data, actor)
    response.headers["Location"] = f"/api/assessments/{case.id}"
    return assessment_out(case, services.workflows)


@router.get("", response_model=AssessmentPage, summary="案件（評価・諮問）の一覧")
def list_assessments(
    services: ServicesDep,
    actor: ActorDep,
    state: Annotated[str | None, Query(max_length=64)] = None,
    level: Literal["basic", "focused", "full"] | None = None,
    office: Annotated[str | None, Query(max_length=100)] = None,
    procedure: Annotated[str | None, Query(max_length=64)] = None,
    kind: Literal["assessment", "consultation"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:
    page = service.list_assessments(
        services.db, AssessmentFilter(state=state, level=level, office=office, procedure=procedure, kind=kind), limit, offset,
        actor,
    )
    return {
        "items": [assessment_out(case, services.workflows) for case in page.items],
        "total": page.total, "limit": page.limit, "offset": page.offset,
    }


@router.get("/{case_id}", response_model=AssessmentOut, summary="評価（現在の状態と、今できる手続）")
def get_assessment(case_id: CaseId, services: ServicesDep, actor: ActorDep) -> dict:
    return assessment_out(service.get_assessment(services.db, case_id, actor), services.workflows)


@router.post("/{case_id}/events", response_model=AssessmentOut, summary="手続を進める（イベントを実行する）")
def fire_event(case_id: CaseId, request: EventRequest, services: ServicesDep, actor: ActorDep) -> dict:
    case = service.advance(
        services.db, services.workflows, services.clock, case_id,
        event=request.event, expected_version=request.expected_version, inputs=request.model_extra or {},
        actor=actor, note=request.note, files=services.files,
    )
    return assessment_out(case, services.workflows)


@router.get("/{case_id}/history", response_model=list[HistoryOut], summary="経過（全周期の履歴）")
def get_history(case_id: CaseId, services: ServicesDep, actor: ActorDep) -> list[dict]:
    return [history_out(entry) for entry in service.history(services.db, case_id, actor)]
