"""The secret URLs of the private calendar feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from notifications.feeds import IssuedCalendarToken


class CalendarTokenOut(BaseModel):
    id: int
    kind: Literal["member", "body"]
    body_id: int | None
    url: str = Field(description="購読用URL（この応答でのみ表示） / the feed URL, shown only this once")
    created_at: datetime


def calendar_token_out(issued: IssuedCalendarToken, base_url: str) -> CalendarTokenOut:
    """The token with its feed's URL on the server the caller reached (`base_url`)."""
    return CalendarTokenOut(id=issued.record.id, kind=issued.kind, body_id=issued.record.body_id,
                            url=base_url.rstrip("/") + issued.path, created_at=issued.record.created_at)
