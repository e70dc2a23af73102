"""/api/search: the record searched as the caller may read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import StringConstraints

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.routing import Router
from api.schemas.search import SearchOut, search_out
from workflow import search as record_search
from workflow.validation import NOT_BLANK

router = Router(tags=["search"], responses=ERROR_RESPONSES)

SearchText = Annotated[str, StringConstraints(min_length=record_search.MIN_QUERY, max_length=record_search.MAX_QUERY,
                                              pattern=NOT_BLANK)]


@router.get("/api/search", summary="審議記録の検索（件名・質問と回答・会議録）")
def search(
    services: ServicesDep,
    actor: ActorDep,
    q: Annotated[SearchText, Query(description="the text to find, anywhere in a title, a question, an answer or "
                                               "the minutes (例: 住民基本台帳)")],
    limit: Annotated[int, Query(ge=1, le=100, description="hits of each kind at most")] = 20,
) -> SearchOut:
    return search_out(record_search.search(services.db, actor, q, limit))
