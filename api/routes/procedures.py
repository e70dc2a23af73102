"""/api/procedures and /api/threshold: the procedures as data, and the threshold judgment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from fastapi.responses import PlainTextResponse

from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.routing import Router
from api.schemas import ThresholdOut
from states.diagram import mermaid
from workflow.service import MAX_HANDLER_COUNT, MAX_TARGET_COUNT
from workflow.threshold import LEVEL_TITLES, Level, required_level

router = Router(tags=["procedures"], responses=ERROR_RESPONSES)

ProcedureName = Annotated[str, Path(max_length=64)]


@router.get("/api/procedures", summary="手続の一覧")
def list_procedures(services: ServicesDep) -> list[dict[str, Any]]:
    return [procedure.as_dict() for procedure in services.workflows.procedures.values()]


@router.get("/api/procedures/{name}", summary="手続の定義（状態・イベント・必要な入力・目標日数）")
def get_procedure(name: ProcedureName, services: ServicesDep) -> dict[str, Any]:
    return services.workflows.procedure(name).as_dict()


@router.get("/api/procedures/{name}/diagram", response_class=PlainTextResponse,
            summary="手続の状態遷移図（Mermaid）")
def procedure_diagram(name: ProcedureName, services: ServicesDep,
                      lang: Literal["ja", "en"] = "ja") -> str:
    return mermaid(services.workflows.procedure(name), lang)


@router.get("/api/threshold", response_model=ThresholdOut, summary="しきい値判断")
def threshold(
    services: ServicesDep,
    target_count: Annotated[int, Query(ge=0, le=MAX_TARGET_COUNT, description="対象人数")],
    handler_count: Annotated[int, Query(ge=0, le=MAX_HANDLER_COUNT, description="取扱者数")],
    serious_incident: Annotated[bool, Query(description="過去1年以内の重大事故")] = False,
) -> dict[str, Any]:
    level = required_level(target_count, handler_count, serious_incident)
    ja, en = LEVEL_TITLES[level]
    procedure = None if level is Level.NONE else services.workflows.procedure_for_level(level).name
    return {"required_level": str(level), "title": {"ja": ja, "en": en}, "procedure": procedure}
