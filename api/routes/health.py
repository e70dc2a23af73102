"""The operators' endpoints: /health (the process answers), /ready (it can serve), /metrics (Prometheus)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response, status

from api import metrics
from api.deps import ServicesDep
from api.errors import ErrorBody
from api.routing import Router
from api.schemas.health import HealthOut, ReadyOut, ready_out

router = Router(tags=["operations"])

NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": ReadyOut, "description": "準備ができていない（失敗した確認とその理由） / Not ready: the checks that fail, "
                                            "and why"},
}
METRICS: dict[int | str, dict[str, Any]] = {
    200: {"content": {metrics.MEDIA_TYPE: {"schema": {"type": "string"}}},
          "description": "Prometheus のテキスト形式 / the Prometheus text format (version 0.0.4)"},
    401: {"model": ErrorBody, "description": "メトリクス用トークンがない、または誤り / "
                                             "The metrics token (SHINGI_METRICS_TOKEN) is missing or wrong"},
    403: {"model": ErrorBody, "description": "トークン未設定時はこのサーバー自身からのみ閲覧可 / "
                                             "Without a metrics token, loopback clients only"},
}


@router.get("/health", summary="稼働（プロセスが応答する。データベースには触れない）")
async def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/ready", responses=NOT_READY, summary="利用可能か（データベース・スキーマの版・スケジューラー）")
def ready(services: ServicesDep, response: Response) -> ReadyOut:
    report = services.readiness.report()
    if not report.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return ready_out(report, version=services.options.version,
                     backend="sqlite" if services.db.is_sqlite else "postgresql")


@router.get("/metrics", response_class=Response, responses=METRICS, summary="メトリクス（Prometheus）")
def prometheus_metrics(request: Request, services: ServicesDep) -> Response:
    services.metrics.authorize(request)
    return Response(services.metrics.render(), media_type=metrics.CONTENT_TYPE)
