"""Search of the record: case titles, members' questions and the offices' answers, and the minutes.

What a reader finds is what the policy lets them read: the cases they may see (`visible_cases`), the
questions and answers of the cases whose records they may read (the staff, the reviewing body, the
office), and the minutes of the meetings they may see — the public passages of published minutes, or
the whole text for those who may read it (`Action.READ_FULL_MINUTES`).

Text is matched as it is written, anywhere in it (Japanese has no word breaks), by trigram indexes:
PostgreSQL's pg_trgm (migration 0007) serves the LIKE itself; on SQLite the FTS5 trigram tables of
migration 0008 name the rows first, and a query of fewer than three characters, which no trigram
holds, reads the rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, and_, cast, column, or_, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from workflow.db import Database
from workflow.models import Assessment
from workflow.policy import Action, Actor, Decision, decide, readable_records, visible_cases, visible_meetings
from workflow.records import Finding, Meeting, Minutes

#: The shortest query: one character would match nearly everything, and no index can serve it.
MIN_QUERY = 2
MAX_QUERY = 100
#: Characters of context shown around a match.
CONTEXT = 40
_ESCAPE = "!"


@dataclass(frozen=True)
class Hit:
    """One place the query was found."""

    kind: str  # case | finding | answer | minutes
    case_id: int | None
    case_title: str | None
    meeting_id: int | None
    #: The text around the match (… where it is cut).
    excerpt: str


@dataclass(frozen=True)
class Results:
    query: str
    hits: list[Hit]
    #: Whether there were more hits of some kind than `limit`.
    more: bool


def _pattern(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere, its wildcards taken literally."""
    for special in (_ESCAPE, "%", "_"):
        text = text.replace(special, _ESCAPE + special)
    return f"%{text}%"


def _excerpt(text: str, query: str) -> str:
    at = text.lower().find(query.lower())
    if at < 0:
        return text[: 2 * CONTEXT] + ("…" if len(text) > 2 * CONTEXT else "")
    start, end = max(0, at - CONTEXT), min(len(text), at + len(query) + CONTEXT)
    return ("…" if start else "") + text[start:end].replace("\n", " ") + ("…" if end < len(text) else "")


#: SQLite: the FTS5 table over each searched table (migration 0008), and the shortest query it serves.
_FTS = {"assessment": "fts_assessment_title", "finding": "fts_finding"}
_TRIGRAM = 3


def _matching(db: Database, table: str, query: str, where: ColumnElement[bool],
              id_column: Any) -> ColumnElement[bool]:
    """`where` (the LIKE of the text), narrowed first to the rows SQLite's full-text index names."""
    if not db.is_sqlite or len(query) < _TRIGRAM:
        return where
    index = _FTS[table]
    phrase = '"' + query.replace('"', '""') + '"'  # one FTS5 phrase: the characters as written
    named = (text(f"SELECT rowid FROM {index} WHERE {index} MATCH :phrase").bindparams(phrase=phrase)
             .columns(column("rowid", Integer)))
    return and_(id_column.in_(named), where)


def search(db: Database, actor: Actor, query: str, limit: int = 20) -> Results:
    """Up to `limit` hits of each kind, the newest first; `query` is matched as written (the caller
    checks its length: MIN_QUERY to MAX_QUERY characters)."""
    query = query.strip()
    pattern = _pattern(query)
    hits: list[Hit] = []
    more = False
    with db.reading(actor) as session:
        titled = _matching(db, "assessment", query, col(Assessment.title).ilike(pattern, escape=_ESCAPE),
                           col(Assessment.id))
        cases = session.exec(
            select(Assessment).where(visible_cases(actor), titled)
            .order_by(col(Assessment.id).desc()).limit(limit + 1)).all()
        more |= len(cases) > limit
        hits += [Hit("case", case.id, case.title, None, _excerpt(case.title, query)) for case in cases[:limit]]

        findings = session.exec(
            select(Finding, Assessment).join(Assessment, col(Assessment.id) == Finding.assessment_id)
            .where(visible_cases(actor), readable_records(actor),
                   _matching(db, "finding", query, or_(col(Finding.text).ilike(pattern, escape=_ESCAPE),
                                                       col(Finding.answer).ilike(pattern, escape=_ESCAPE)),
                             col(Finding.id)))
            .order_by(col(Finding.id).desc()).limit(limit + 1)).all()
        more |= len(findings) > limit
        for finding, case in findings[:limit]:
            asked = query.lower() in finding.text.lower()
            text = finding.text if asked else (finding.answer or "")
            hits.append(Hit("finding" if asked else "answer", case.id, case.title, finding.meeting_id,
                            _excerpt(text, query)))

        # Passages are stored as JSON, its text escaped as JSON writes it: the query is matched in that form.
        escaped = json.dumps(query)[1:-1]
        minutes = session.exec(
            select(Minutes, Meeting).join(Meeting, col(Meeting.id) == Minutes.meeting_id)
            .where(visible_meetings(actor), cast(Minutes.passages, String).like(_pattern(escaped), escape=_ESCAPE))
            .order_by(col(Minutes.id).desc()).limit(5 * limit)).all()
        found = 0
        for record, meeting in minutes:
            passages = _readable_passages(actor, record, meeting)
            matching = [text for text in passages if query.lower() in text.lower()]
            if not matching:
                continue
            if found == limit:
                more = True
                break
            found += 1
            hits.append(Hit("minutes", None, None, meeting.id, _excerpt(matching[0], query)))
    return Results(query, hits, more)


def _readable_passages(actor: Actor, minutes: Minutes, meeting: Meeting) -> Iterable[str]:
    passages: list[dict[str, Any]] = minutes.passages or []
    if decide(actor, Action.READ_FULL_MINUTES, meeting) is Decision.ALLOW:
        return [str(passage.get("text", "")) for passage in passages]
    if minutes.status != "published":
        return []
    return [str(passage.get("text", "")) for passage in passages if passage.get("public", True)]
