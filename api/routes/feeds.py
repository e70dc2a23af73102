"""Calendar feeds (.ics) and the secret URLs of the private ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.routing import Router
from api.schemas.feeds import CalendarTokenOut, calendar_token_out
from notifications import feeds
from workflow.validation import JSON_INTEGER, Text20OrEmpty

router = Router(tags=["calendar feeds"], responses=ERROR_RESPONSES)
Id = Annotated[int, Path(ge=1, le=feeds.MAX_ID)]

MEDIA_TYPE = "text/calendar; charset=utf-8"
#: A private feed's URL is its secret: kept out of caches, referrers and search engines.
PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
                   "X-Robots-Tag": "noindex", "X-Content-Type-Options": "nosniff"}
PUBLIC_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
#: The feeds answer iCalendar, not JSON (`response_class=Response` keeps JSON out of their schema).
ICS: dict[int | str, dict[str, Any]] = {200: {"content": {"text/calendar": {}}, "description": "iCalendar (RFC 5545)"}}


class NewCalendarToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body_id: Annotated[int, Field(ge=1, le=feeds.MAX_ID), JSON_INTEGER] | None = Field(
        default=None, description="会議体のカレンダー（事務局のみ）; omit for your own calendar")


@router.post("/api/calendar-tokens", status_code=status.HTTP_201_CREATED,
             summary="カレンダー購読用URLを発行する（自分の会議・期限、または会議体の会議）")
def issue(request: Request, services: ServicesDep, actor: ActorDep,
          data: NewCalendarToken | None = None) -> CalendarTokenOut:
    body_id = data.body_id if data is not None else None
    return calendar_token_out(feeds.issue_token(services.db, services.clock, actor, body_id=body_id),
                              str(request.base_url))


@router.post("/api/calendar-tokens/{token_id}/rotate", summary="カレンダー購読用URLを再発行する（旧URLは無効になる）")
def rotate(token_id: Id, request: Request, services: ServicesDep, actor: ActorDep) -> CalendarTokenOut:
    return calendar_token_out(feeds.rotate_token(services.db, services.clock, token_id, actor),
                              str(request.base_url))


def _ics(content: bytes, headers: dict[str, str]) -> Response:
    return Response(content, media_type=MEDIA_TYPE, headers=headers)


@router.head("/feeds/members/{token}.ics", include_in_schema=False)
@router.get("/feeds/members/{token}.ics", response_class=Response, responses=ICS,
            summary="委員のカレンダー（所属する会議体の会議と期限）")
def member_feed(token: str, services: ServicesDep) -> Response:
    return _ics(feeds.member_feed(services.db, services.clock, services.workflows, token), PRIVATE_HEADERS)


@router.head("/feeds/bodies/{token}.ics", include_in_schema=False)
@router.get("/feeds/bodies/{token}.ics", response_class=Response, responses=ICS,
            summary="会議体のカレンダー（会議）")
def body_feed(token: str, services: ServicesDep) -> Response:
    return _ics(feeds.body_feed(services.db, services.clock, token), PRIVATE_HEADERS)


@router.head("/feeds/public.ics", include_in_schema=False)
@router.get("/feeds/public.ics", response_class=Response, responses=ICS, summary="公開会議のカレンダー")
def public_feed(services: ServicesDep, organisation: Annotated[Text20OrEmpty | None, Query(
        description="団体コード: the public meetings of this organisation only (all organisations' when left out)")] = None,
        ) -> Response:
    return _ics(feeds.public_feed(services.db, services.clock, organisation=organisation or None), PUBLIC_HEADERS)
