"""The search of the record: what was found, and where to read it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from workflow.search import Hit, Results


class HitOut(BaseModel):
    kind: Literal["case", "finding", "answer", "minutes"] = Field(
        description="case: its title; finding: a member's question; answer: the office's answer; minutes")
    case_id: int | None
    case_title: str | None
    meeting_id: int | None
    excerpt: str = Field(description="the text around the match (… where it is cut)")
    url: str = Field(description="where to read it in the API")


class SearchOut(BaseModel):
    query: str
    items: list[HitOut]
    more: bool = Field(description="more was found of some kind than `limit`: narrow the query")


def _url(hit: Hit) -> str:
    if hit.kind == "case":
        return f"/api/assessments/{hit.case_id}"
    if hit.kind in ("finding", "answer"):
        return f"/api/assessments/{hit.case_id}/findings"
    return f"/api/meetings/{hit.meeting_id}/minutes"


def search_out(results: Results) -> SearchOut:
    return SearchOut(query=results.query, more=results.more,
                     items=[HitOut(kind=hit.kind, case_id=hit.case_id, case_title=hit.case_title,
                                   meeting_id=hit.meeting_id, excerpt=hit.excerpt, url=_url(hit))
                            for hit in results.hits])
