"""Generated documents, written from the record: 開催通知, 部会報告, 答申書, 意見募集の結果,
会議結果報告 and the 計画管理書.

Each document has one Jinja2 template (`templates/papers/<kind>.html`, which a secretariat may
replace with its own in SHINGI_TEMPLATES_DIR). The printable HTML comes from it, and so does the
editable .docx: the HTML is walked into Word paragraphs, headings and tables, so both always carry
the same facts. The register is also an .xlsx.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from sqlmodel import Session

from notifications import templating
from notifications.formats import Paper
from notifications.letterhead import Letterhead, letterhead_of
from notifications.register import Register, RegisterFilter, open_register
from workflow import cases, lifecycle, meetings, public_comments, reading
from workflow.clock import TOKYO, Clock, local_today
from workflow.dates import meeting_title, wareki, wareki_time
from workflow.db import Database
from workflow.engine import Workflows
from workflow.models import Assessment, Body
from workflow.policy import Action, Actor, Decision, authorize, decide, system_actor
from workflow.records import (
    Meeting,
)
from workflow.resolutions import VERDICT_TEXT, ResolutionKind, Verdict, council_of
from workflow.vocabulary import COMMENT_CHANNELS, PURPOSES, label

#: The findings' statuses as their lifecycle names them (states/lifecycles/finding.yaml).
FINDING_STATUSES = {status: lifecycle.FINDING.status_title(status).ja for status in lifecycle.FINDING.statuses}
KIND_TITLES = {
    "findings": "委員からの質問事項及び回答",
    "convocation": "開催通知", "subcommittee_report": "部会報告", "reply": "答申書",
    "public_comment_result": "意見募集の結果", "meeting_result": "会議結果報告", "register": "計画管理書",
}


@functools.lru_cache(maxsize=8)
def environment(custom_dir: Path | None = None) -> Environment:
    """The documents' environment (templating.environment), with their filters."""
    return templating.environment(("notifications", "templates"), custom_dir, autoescape=select_autoescape(["html"]),
                                  filters={"wareki": wareki_filter, "purpose": lambda key: label(PURPOSES, key),
                                           "channel": lambda key: label(COMMENT_CHANNELS, key)})


def wareki_filter(value: date | datetime | None, weekday: bool = True) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(TOKYO).date()
    return wareki(value, weekday=weekday)




# --- the record, gathered -----------------------------------------------------------------------

def _time_range(meeting: Meeting) -> str:
    start = wareki_time(meeting.starts_at.astimezone(TOKYO).time())
    if meeting.ends_at is None:
        return f"{start}から"
    return f"{start}から{wareki_time(meeting.ends_at.astimezone(TOKYO).time())}まで"


def _meeting_facts(session: Session, meeting: Meeting, reader: Actor) -> dict[str, Any]:
    record = reading.meeting_record(session, meeting, reader)
    return {
        "meeting": meeting, "body": record.body, "council": record.council,
        "title": meeting_title(meeting.term, meeting.number, record.body.name, separator=""),
        "date": wareki_filter(meeting.starts_at), "time": _time_range(meeting),
        "agenda": [{"position": item.position, "title": item.title, "purpose": label(PURPOSES, item.purpose)}
                   for item in record.agenda],
        "materials": [{"label": doc.label or "", "title": doc.title, "confidential": doc.classification != "public"}
                      for doc in record.materials],
        "present": [row for row in record.attendance if row.present],
        "absent": [row for row in record.attendance if not row.present],
    }


def _case_meetings(session: Session, case: Assessment) -> list[dict[str, Any]]:
    return [{"date": wareki_filter(entry.meeting.starts_at), "title": meeting_title(entry.meeting.term, entry.meeting.number),
             "body": entry.body.name, "purpose": label(PURPOSES, entry.item.purpose),
             "item": entry.item.title} for entry in reading.meetings_of_case(session, case)]


def _opinion(session: Session, case: Assessment) -> dict[str, Any] | None:
    opinion = reading.opinion_of(session, case)
    if opinion is None:
        return None
    return {"verdict": VERDICT_TEXT[Verdict(opinion.verdict)][0], "conditions": opinion.conditions,
            "supplementary": opinion.supplementary, "decided_on": wareki_filter(opinion.decided_on)}


def _public_comment(session: Session, case: Assessment) -> dict[str, Any]:
    """The public comment as the domain reads it (public_comments.disposition_of): the same comments,
    count and period as the disposition table shows."""
    result = public_comments.disposition_of(session, case)
    rows = [{"no": row.no, "summary": row.comment.summary, "response": row.comment.response or "（検討中）",
             "channel": label(COMMENT_CHANNELS, row.comment.channel),
             "change": f"{row.change.section}：{row.change.before} → {row.change.after}" if row.change else None,
             "no_change_reason": row.comment.no_change_reason} for row in result.rows]
    period = ""
    if result.period is not None:
        start, end = result.period
        period = f"{wareki_filter(start)}から{wareki_filter(end)}まで"
    return {"held": result.period is not None, "period": period, "count": result.count, "closed": result.closed,
            "rows": rows}


def _case_facts(session: Session, case: Assessment) -> dict[str, Any]:
    body = session.get(Body, case.body_id) if case.body_id else None
    return {
        "case": case, "letterhead": letterhead_of(session, case.organisation_id), "body": body,
        "council": council_of(session, body) if body else None,
        "subject": case.title,
        "meetings": _case_meetings(session, case),
        "findings": reading.findings_of(session, case),
        "opinion": _opinion(session, case),
        "public_comment": _public_comment(session, case),
        "changes": [{"version": version.number, "section": change.section, "before": change.before,
                     "after": change.after, "reason": change.reason}
                    for change, version in reading.report_changes(session, case)],
        "report": reading.resolution_of(session, case, ResolutionKind.SUBCOMMITTEE_REPORT.value),
        "reply": reading.resolution_of(session, case, ResolutionKind.REPLY.value),
    }


# --- the documents ------------------------------------------------------------------------------

def _render(kind: str, env: Environment, *, letterhead: Letterhead, **context: Any) -> str:
    """The paper from its organisation's own template, else the install's."""
    template = env.select_template(letterhead.templates(f"papers/{kind}.html"))
    return template.render(kind_title=KIND_TITLES[kind], letterhead=letterhead, **context)


def _meeting_paper(kind: str, db: Database, meeting_id: int, actor: Actor,
                   env: Environment, title: str) -> Paper:
    """A document about one meeting, for those who may read the meeting; `title` is formatted with its facts."""
    with db.reading(actor) as session:
        meeting = meetings.load(session, meeting_id)
        authorize(actor, Action.READ_MEETING, (meeting, reading.offices_on_agenda(session, meeting)))
        facts = _meeting_facts(session, meeting, actor)
        html = _render(kind, env, letterhead=letterhead_of(session, meeting.organisation_id), **facts)
    return Paper(kind, title.format(**facts), html)


def _case_paper(kind: str, db: Database, case_id: int, actor: Actor,
                env: Environment, title: str) -> Paper:
    """A document about one case's record, for those who may read the record."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_RECORDS, case)
        html = _render(kind, env, **_case_facts(session, case))
    return Paper(kind, title.format(subject=case.title), html)


def convocation(db: Database, meeting_id: int, actor: Actor,
                env: Environment) -> Paper:
    """開催通知: date, time, venue, agenda and materials, to the members of the body."""
    return _meeting_paper("convocation", db, meeting_id, actor, env, "{title}の開催について（通知）")


def meeting_result(db: Database, meeting_id: int, actor: Actor,
                   env: Environment) -> Paper:
    """会議結果報告, in the form Matsusaka publishes."""
    return _meeting_paper("meeting_result", db, meeting_id, actor, env, "審議会等の会議結果報告（{title}）")


def subcommittee_report(db: Database, case_id: int, actor: Actor,
                        env: Environment) -> Paper:
    """部会報告: 1 審議事項, 2 調査審議の内容, 3 部会の意見, 4 審議経過, and the annex of findings (Chiba)."""
    return _case_paper("subcommittee_report", db, case_id, actor, env, "{subject}について（部会報告）")


def reply(db: Database, case_id: int, actor: Actor,
          env: Environment) -> Paper:
    """答申書: the council's reply to the head of the organisation."""
    return _case_paper("reply", db, case_id, actor, env, "{subject}について（答申）")


def findings(db: Database, case_id: int, actor: Actor,
             env: Environment, today: date) -> Paper:
    """委員からの質問事項及び回答 (Chiba's 資料3): every finding of this cycle, its answer, its status and the
    report version where its change landed, with the list of changes (修正箇所)."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_RECORDS, case)
        facts = _case_facts(session, case)
        versions = reading.version_numbers(session, case)
        revisions = {finding.id: f"第{versions[finding.resolved_in_version_id]}版で修正"
                     for finding in facts["findings"] if finding.resolved_in_version_id in versions}
        html = _render("findings", env, statuses=FINDING_STATUSES, revisions=revisions,
                       today=today, **facts)
    return Paper("findings", f"{case.title} 委員からの質問事項及び回答", html)


def public_comment_result(db: Database, case_id: int, actor: Actor,
                          env: Environment) -> Paper:
    """意見募集の結果: the period, the number of comments (none is a result) and 意見の概要と実施機関の考え方."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        if decide(actor, Action.READ_RECORDS, case) is not Decision.ALLOW:
            authorize(actor, Action.READ_CASE, case)  # the result of a public call is public with its case
        facts = _case_facts(session, case)
        html = _render("public_comment_result", env, **facts)
    return Paper("public_comment_result", f"{case.title}（案）に対する意見募集の結果", html)


def resolution_text(db: Database, case_id: int, kind: ResolutionKind,
                    env: Environment) -> str:
    """The text a report or reply is drafted with: the generated document, as plain text."""
    maker = subcommittee_report if kind is ResolutionKind.SUBCOMMITTEE_REPORT else reply
    return maker(db, case_id, system_actor(), env).text()


@dataclass(frozen=True)
class Papers:
    """Writes the generated documents with the secretariat's templates; each carries the letterhead of the
    organisation its case or meeting belongs to."""

    db: Database
    workflows: Workflows
    clock: Clock
    templates: Environment

    def convocation(self, meeting_id: int, actor: Actor) -> Paper:
        return convocation(self.db, meeting_id, actor, self.templates)

    def meeting_result(self, meeting_id: int, actor: Actor) -> Paper:
        return meeting_result(self.db, meeting_id, actor, self.templates)

    def subcommittee_report(self, case_id: int, actor: Actor) -> Paper:
        return subcommittee_report(self.db, case_id, actor, self.templates)

    def reply(self, case_id: int, actor: Actor) -> Paper:
        return reply(self.db, case_id, actor, self.templates)

    def findings(self, case_id: int, actor: Actor) -> Paper:
        return findings(self.db, case_id, actor, self.templates, local_today(self.clock))

    def public_comment_result(self, case_id: int, actor: Actor) -> Paper:
        return public_comment_result(self.db, case_id, actor, self.templates)

    def register(self, actor: Actor, which: RegisterFilter | None = None) -> Register:
        return open_register(self.db, actor, self.workflows, self.templates, which)

    def resolution_text(self, case_id: int, kind: ResolutionKind) -> str:
        return resolution_text(self.db, case_id, kind, self.templates)
