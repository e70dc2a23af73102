"""Public comment intake (住民等の意見聴取) and the disposition table (意見と実施機関の考え方).

Comments are recorded as received within the case's comment period, under an anonymised label
(市民A) — never an e-mail address or a telephone number. The office's response (実施機関の考え方)
comes with either the change it caused in the report (a 修正箇所 of the same case) or the reason
there is none.

"No comments received" is not a row: it is the case's `comment_count` of 0, recorded when the
public comment is closed (the lifecycle event `close_public_comment`). The disposition compares the
two and says so when the recorded comments and that count disagree (Chiba 2015: none received).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from workflow import audit, cases
from workflow.accounts import audit_actor
from workflow.clock import Clock, local_today
from workflow.columns import load_row, stored_id
from workflow.dates import days_inclusive, english_date, wareki
from workflow.db import Database
from workflow.errors import Conflict, FieldProblem, InvalidInput, Message, Record, RecordNotFound
from workflow.findings import MAX_ID, RowId, not_future, not_of_this_case
from workflow.models import Assessment
from workflow.policy import Action, Actor, authorize
from workflow.records import PublicComment, ReportChange, ReportVersion
from workflow.validation import RecordDate, Text100, Text5000, Text10000


class Channel(StrEnum):
    WEB = "web"          #: ホームページ（電子申請）
    EMAIL = "email"      #: 電子メール
    FAX = "fax"          #: ファクシミリ
    POST = "post"        #: 郵送
    COUNTER = "counter"  #: 窓口持参
    OTHER = "other"      #: その他


class NewPublicComment(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "received_on": "2015-07-01", "channel": "web", "submitter": "市民A",
        "summary": "中間サーバーのアクセスログを市が監視できるのか。",
    }]})

    received_on: RecordDate = Field(description="受付日（意見聴取期間内）")
    channel: Channel = Field(description="web | email | fax | post | counter | other")
    submitter: Text100 = Field(description="提出者（匿名化した表記。例: 市民A）")
    summary: Text10000 = Field(description="意見の概要")


class CommentResponse(BaseModel):
    """実施機関の考え方, and either the change it caused or the reason for none."""

    model_config = ConfigDict(extra="forbid")

    response: Text10000 = Field(description="実施機関の考え方")
    change_id: RowId | None = Field(default=None, description="意見を受けて行った修正箇所のID")
    no_change_reason: Text5000 | None = Field(default=None, description="修正しない理由")


# An e-mail address, or ten digits or more in one run (Japanese telephone numbers have 10 or 11
# with the area code), after NFKC so that full-width ＠ and ０９０ count.
_EMAIL = re.compile(r"\S@\S")
_DIGIT_RUN = re.compile(r"\+?\d(?:[\d\s\-‐‑‒–—―−ー().]*\d)?")


def looks_personal(label: str) -> bool:
    """Whether a submitter label looks like an e-mail address or a telephone number."""
    text = unicodedata.normalize("NFKC", label)
    if _EMAIL.search(text) or "[at]" in text.lower() or "(at)" in text.lower():
        return True
    return any(sum(ch.isdigit() for ch in run) >= 10 for run in _DIGIT_RUN.findall(text))


def _period(case: Assessment) -> tuple[date, date] | None:
    if case.comment_start is None or case.comment_end is None:
        return None
    return case.comment_start, case.comment_end


def record_comment(db: Database, clock: Clock, case_id: int, data: NewPublicComment, actor: Actor) -> PublicComment:
    """Record a comment received during the case's public comment period."""
    now, today = clock.now(), local_today(clock)
    with db.writing(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.RECORD_DELIBERATION, case)
        period = _period(case)
        if period is None:
            raise Conflict(Message("この案件（現在の周期）には意見聴取期間が記録されていないため、意見を登録できません。",
                                   "No public comment period is recorded for this case's current cycle."))
        problems: list[FieldProblem] = []
        start, end = period
        if not start <= data.received_on <= end:
            problems.append(FieldProblem("received_on", "within_period", Message(
                f"受付日は意見聴取期間（{wareki(start)}から{wareki(end)}まで）内の日付としてください。",
                f"The comment must have been received within the public comment period "
                f"({english_date(start)} to {english_date(end)}).")))
        elif data.received_on > today:
            not_future("received_on", data.received_on, today)
        if looks_personal(data.submitter):
            problems.append(FieldProblem("submitter", "anonymised", Message(
                "提出者は匿名化した表記（例: 市民A）で記録してください。メールアドレスや電話番号は記録できません。",
                "Record the submitter under an anonymised label (e.g. 市民A), never an e-mail address or a "
                "telephone number.")))
        if problems:
            raise InvalidInput(problems)
        comment = PublicComment(assessment_id=stored_id(case), cycle=case.cycle, received_on=data.received_on,
                                channel=data.channel.value, submitter=data.submitter, summary=data.summary,
                                created_at=now)
        session.add(comment)
        session.flush()
        # The label only: the audit trail keeps no more of the submitter than the record does.
        audit.record(session, audit_actor(actor), "public_comment.recorded", at=now, object_type="public_comment",
                     object_id=comment.id, detail={"assessment_id": case.id, "cycle": case.cycle,
                                                   "received_on": data.received_on.isoformat(),
                                                   "channel": comment.channel})
    return comment


def _change_of_case(session: Session, actor: Actor, case: Assessment, change_id: int) -> ReportChange:
    found = session.exec(select(ReportChange, ReportVersion.assessment_id)
                         .join(ReportVersion, col(ReportChange.version_id) == ReportVersion.id)
                         .where(ReportChange.id == change_id)).first() if 0 < change_id <= MAX_ID else None
    if found is None or found[1] != case.id:
        raise InvalidInput([not_of_this_case(
            session, actor, "change_id", Record.REPORT_CHANGE, change_id, found[1] if found else None,
            Message(f"この案件の修正箇所（ID {change_id}）ではありません。",
                    f"Change {change_id} is not a change of this case's report."))])
    return found[0]


def respond(db: Database, clock: Clock, comment_id: int, data: CommentResponse, actor: Actor) -> PublicComment:
    """Record the office's response and the change it caused, or the reason for none (replacing any earlier)."""
    if data.change_id is not None and data.no_change_reason:
        raise InvalidInput.single("no_change_reason", "change_or_reason",
                                  "修正箇所と修正しない理由はどちらか一方を指定してください。",
                                  "Give either the change or the reason for none, not both.")
    if data.change_id is None and not data.no_change_reason:
        raise InvalidInput.single("no_change_reason", "change_or_reason",
                                  "意見を受けた修正箇所（change_id）か、修正しない理由を指定してください。",
                                  "Give the change the comment caused (change_id) or the reason for none.")
    now = clock.now()
    with db.writing(actor) as session:
        comment = load_row(session, PublicComment, comment_id, Record.PUBLIC_COMMENT, for_update=True)
        case = cases.load(session, comment.assessment_id)
        # A comment on a case the actor may not know of is not there: the words of a missing comment.
        authorize(actor, Action.ANSWER_FINDING, case, hidden=RecordNotFound(Record.PUBLIC_COMMENT, comment_id))
        if data.change_id is not None:
            _change_of_case(session, actor, case, data.change_id)
        comment.response, comment.change_id, comment.no_change_reason = (data.response, data.change_id,
                                                                         data.no_change_reason)
        session.add(comment)
        session.flush()
        audit.record(session, audit_actor(actor), "public_comment.responded", at=now, object_type="public_comment",
                     object_id=comment.id, detail={"assessment_id": case.id, "change_id": data.change_id,
                                                   "no_change": data.change_id is None})
    return comment


def comments_of(db: Database, case_id: int, actor: Actor, *, cycle: int | None = None) -> list[PublicComment]:
    """The comments of one cycle (the current one unless given), in the order received."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_RECORDS, case)
        return list(session.exec(select(PublicComment).where(
            PublicComment.assessment_id == case.id, PublicComment.cycle == (cycle or case.cycle))
            .order_by(col(PublicComment.received_on), col(PublicComment.id))).all())


# --- the disposition table ----------------------------------------------------------------------

@dataclass(frozen=True)
class DispositionRow:
    no: int
    comment: PublicComment
    change: ReportChange | None = None
    change_version: ReportVersion | None = None


@dataclass(frozen=True)
class Disposition:
    """意見の概要と実施機関の考え方: the result of the public comment of the case's current cycle.

    `count` is the number recorded when the period was closed (`comment_count`), or, before that, the
    number of comments recorded so far; `consistent` is False when the two disagree after closing.
    """

    case_id: int
    cycle: int
    period: tuple[date, date] | None
    shortened_reason: str | None
    closed: bool
    count: int
    recorded: int
    consistent: bool
    pending: int
    rows: list[DispositionRow]
    warnings: list[Message] = field(default_factory=list)
    statement: Message | None = None

    @property
    def period_days(self) -> int | None:
        """The period's length counting both ends (Chiba 2015-06-22 to 07-21: 30 days)."""
        return days_inclusive(*self.period) if self.period else None


def disposition(db: Database, case_id: int, actor: Actor) -> Disposition:
    """The disposition table of the current cycle's public comment, with any mismatch reported."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_RECORDS, case)
        return disposition_of(session, case)


def disposition_of(session: Session, case: Assessment) -> Disposition:
    """The disposition of the case's current cycle, read in the caller's transaction (the generated
    意見募集の結果 is written from this very reading)."""
    comments = session.exec(select(PublicComment).where(
        PublicComment.assessment_id == case.id, PublicComment.cycle == case.cycle)
        .order_by(col(PublicComment.received_on), col(PublicComment.id))).all()
    period = _period(case)
    warnings: list[Message] = []
    if period is not None:
        start, end = period
        outside = [c for c in comments if not start <= c.received_on <= end]
        comments = [c for c in comments if start <= c.received_on <= end]
        if outside:
            warnings.append(Message(
                f"現在の意見聴取期間外に受け付けた意見が{len(outside)}件あります（この表には含めていません）。",
                f"{len(outside)} comment(s) of this cycle were received outside the current period "
                "and are not in this table."))
    else:
        warnings.append(Message("この周期の意見聴取期間が記録されていません。",
                                "No public comment period is recorded for this cycle."))
    change_ids = [c.change_id for c in comments if c.change_id is not None]
    changes = {change.id: (change, version) for change, version in session.exec(
        select(ReportChange, ReportVersion).join(ReportVersion, col(ReportChange.version_id) == ReportVersion.id)
        .where(col(ReportChange.id).in_(change_ids))).all()} if change_ids else {}
    rows = [DispositionRow(no, comment, *changes.get(comment.change_id, (None, None)))
            for no, comment in enumerate(comments, start=1)]
    closed = case.comment_count is not None
    recorded = len(rows)
    count = case.comment_count if case.comment_count is not None else recorded
    consistent = not closed or count == recorded
    if not consistent:
        warnings.append(Message(
            f"記録された意見（{recorded}件）と、意見聴取終了時に記録された提出件数（{count}件）が一致しません。",
            f"The comments recorded ({recorded}) do not match the number recorded when the public comment "
            f"closed ({count})."))
    pending = sum(1 for row in rows if row.comment.response is None)
    if pending:
        warnings.append(Message(f"実施機関の考え方が未記入の意見が{pending}件あります。",
                                f"{pending} comment(s) have no response from the office yet."))
    statement = None
    if closed and consistent and period is not None:
        start, end = period
        ja_period, en_period = f"{wareki(start)}から{wareki(end)}まで", f"{english_date(start)} to {english_date(end)}"
        statement = (Message(f"意見聴取期間（{ja_period}）に意見の提出はありませんでした。",
                             f"No comments were received during the public comment ({en_period}).")
                     if count == 0 else
                     Message(f"意見聴取期間（{ja_period}）に{count}件の意見が提出されました。",
                             f"{count} comment(s) were received during the public comment ({en_period})."))
    return Disposition(case_id=stored_id(case), cycle=case.cycle, period=period,
                       shortened_reason=case.comment_shortened_reason, closed=closed, count=count,
                       recorded=recorded, consistent=consistent, pending=pending, rows=rows,
                       warnings=warnings, statement=statement)

