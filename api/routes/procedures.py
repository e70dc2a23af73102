"""/api/procedures and /api/threshold: the procedures as data, and the threshold judgment."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from fastapi.responses import PlainTextResponse

from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, LocalisedText
from api.routing import Router
from api.schemas.procedures import ProcedureOut, ThresholdOut, procedure_out
from states.diagram import mermaid
from workflow.service import MAX_HANDLER_COUNT, MAX_TARGET_COUNT
from workflow.threshold import LEVEL_TITLES, Level, required_level
from workflow.validation import Text64

router = Router(tags=["procedures"], responses=ERROR_RESPONSES)

ProcedureName = Annotated[Text64, Path(description="the procedure's name (e.g. full_assessment)")]


# exclude_unset: an event's input names only the keys that apply to it, as the procedure describes it
@router.get("/api/procedures", response_model_exclude_unset=True, summary="手続の一覧")
def list_procedures(services: ServicesDep) -> list[ProcedureOut]:
    return [procedure_out(procedure) for procedure in services.workflows.procedures.values()]


@router.get("/api/procedures/{name}", response_model_exclude_unset=True,
            summary="手続の定義（状態・イベント・必要な入力・目標日数）")
def get_procedure(name: ProcedureName, services: ServicesDep) -> ProcedureOut:
    return procedure_out(services.workflows.procedure(name))


@router.get("/api/procedures/{name}/diagram", response_class=PlainTextResponse,
            summary="手続の状態遷移図（Mermaid）")
def procedure_diagram(name: ProcedureName, services: ServicesDep,
                      lang: Literal["ja", "en"] = "ja") -> str:
    return mermaid(services.workflows.procedure(name), lang)


@router.get("/api/threshold", summary="しきい値判断")
def threshold(
    services: ServicesDep,
    target_count: Annotated[int, Query(ge=0, le=MAX_TARGET_COUNT, description="対象人数")],
    handler_count: Annotated[int, Query(ge=0, le=MAX_HANDLER_COUNT, description="取扱者数")],
    serious_incident: Annotated[bool, Query(description="過去1年以内の重大事故")] = False,
) -> ThresholdOut:
    level = required_level(target_count, handler_count, serious_incident)
    ja, en = LEVEL_TITLES[level]
    procedure = None if level is Level.NONE else services.workflows.procedure_for_level(level).name
    return ThresholdOut(required_level=str(level), title=LocalisedText(ja=ja, en=en), procedure=procedure)
