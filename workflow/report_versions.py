"""Versions of the assessment report (評価書の版) and what each changed (修正箇所).

A version is numbered per case (第1版, 第2版 … across cycles), may name its full document and its
public one — documents of the same case; the public one must be classified public — and lists
its changes (section, before, after, reason, and the findings each answers: Fukuoka's 資料3-1 and
3-2) and the parts its public version withholds (非公開部分), each with its reason. A finding a
change answers records the version it landed in (`resolved_in_version_id`).

`changes_of` is the 修正箇所一覧: every change of the case with the findings it answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from workflow import audit, cases
from workflow.accounts import audit_actor
from workflow.clock import Clock, local_today
from workflow.columns import MAX_ID, stored_id
from workflow.db import Database
from workflow.errors import FieldProblem, InvalidInput, Message, Record, not_found_message
from workflow.findings import RowId, not_future, not_of_this_case
from workflow.models import Assessment, Document
from workflow.policy import Action, Actor, Classification, authorize, can_know_document
from workflow.records import Finding, ReportChange, ReportVersion, WithheldPart
from workflow.validation import RecordDate, Text100OrEmpty, Text200, Text2000, Text5000, Text10000, Text20000OrEmpty


class NewChange(BaseModel):
    """修正箇所: one change, with the wording before and after (an addition has no `before`)."""

    model_config = ConfigDict(extra="forbid")

    section: Text200 = Field(description="修正箇所（例: Ⅱ 特定個人情報ファイルの概要 6. ①保管場所）")
    before: Text20000OrEmpty = Field(default="", description="修正前（追記なら空）")
    after: Text20000OrEmpty = Field(default="", description="修正後（削除なら空）")
    reason: Text5000 = Field(description="修正の理由（例: 委員の指摘を踏まえて）")
    finding_ids: Annotated[list[RowId], Field(max_length=100)] = Field(
        default=[], description="この修正が対応する質問・意見のID")


class NewWithheldPart(BaseModel):
    """A part of the public version left out (非公開部分) and why."""

    model_config = ConfigDict(extra="forbid")

    section: Text200 = Field(description="非公開とした箇所")
    reason: Text2000 = Field(description="非公開の理由（例: セキュリティ上の支障）")


class NewReportVersion(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "label": "第三者点検を踏まえた修正案（資料3）", "submitted_on": "2023-11-16",
        "changes": [{
            "section": "Ⅱ 特定個人情報ファイルの概要 6. 特定個人情報の保管・消去 ①保管場所",
            "before": "IDと生体認証(又はパスワード)による認証が必要となる",
            "after": "サーバへのアクセスは、原則、IDと生体認証による認証が必要となる。例外として生体認証による照合が困難な"
                     "場合に限り、管理監督者の承認の下、パスワードによる認証を行う。",
            "reason": "生体認証とパスワードではセキュリティレベルが異なるとの指摘を踏まえて修正", "finding_ids": [1],
        }],
    }]})

    label: Text100OrEmpty = Field(default="", description="版の名称（例: 第三者点検後修正版）")
    submitted_on: RecordDate = Field(description="提出日")
    note: Text10000 | None = None
    document_id: RowId | None = Field(default=None, description="評価書（全体版）の資料ID（委員限りでもよい）")
    public_document_id: RowId | None = Field(default=None, description="公表版の資料ID（公開の資料）")
    changes: Annotated[list[NewChange], Field(max_length=500)] = []
    withheld: Annotated[list[NewWithheldPart], Field(max_length=200)] = Field(
        default=[], description="公表版で非公開とした箇所（公表版があるときのみ）")


@dataclass(frozen=True)
class VersionEntry:
    """A version with its changes and withheld parts; document ids the reader may not know are None."""

    version: ReportVersion
    changes: list[ReportChange]
    withheld: list[WithheldPart]
    document_id: int | None
    public_document_id: int | None


@dataclass(frozen=True)
class ChangeEntry:
    """One line of the 修正箇所一覧: the change, its version, and the findings it answers."""

    change: ReportChange
    version: ReportVersion
    findings: list[Finding]


def _document(session: Session, actor: Actor, case: Assessment, document_id: int, field: str) -> Document:
    document = session.get(Document, document_id) if 0 < document_id <= MAX_ID else None
    if document is None or document.assessment_id != case.id:
        owner = session.get(Assessment, document.assessment_id) if document is not None else None
        if owner is not None and document is not None and can_know_document(actor, owner, document):
            raise InvalidInput.single(field, "same_case", f"この案件の資料（ID {document_id}）ではありません。",
                                      f"Document {document_id} is not a document of this case.")
        message = not_found_message(Record.DOCUMENT, document_id)  # hidden or missing: the same words
        raise InvalidInput.single(field, "exists", message.ja, message.en)
    if document.purged_at is not None:
        raise InvalidInput.single(field, "not_purged", "削除済みの資料は指定できません。",
                                  "The document's content has been purged.")
    return document


def _check(session: Session, actor: Actor, case: Assessment, data: NewReportVersion) -> None:
    problems: list[FieldProblem] = []

    def problem(field: str, rule: str, ja: str, en: str) -> None:
        problems.append(FieldProblem(field, rule, Message(ja, en)))

    if data.document_id is not None:
        _document(session, actor, case, data.document_id, "document_id")
    if data.public_document_id is not None:
        public = _document(session, actor, case, data.public_document_id, "public_document_id")
        if Classification(public.classification) is not Classification.PUBLIC:
            problem("public_document_id", "public", "公表版には公開の資料を指定してください（委員限りの資料は不可）。",
                    "The public version must be a document classified public.")
    if data.withheld and data.public_document_id is None:
        problem("withheld", "needs_public_version", "非公開部分は公表版（public_document_id）とともに登録してください。",
                "Withheld parts belong to a public version: give public_document_id.")
    wanted = {finding_id for change in data.changes for finding_id in change.finding_ids}
    owners = dict(session.exec(select(Finding.id, Finding.assessment_id).where(col(Finding.id).in_(wanted))).all()) \
        if wanted else {}
    for index, change in enumerate(data.changes):
        if not change.before and not change.after:
            problem(f"changes.{index}.after", "not_empty", "修正前と修正後の両方が空です。",
                    "Before and after cannot both be empty.")
        for position, finding_id in enumerate(change.finding_ids):
            if owners.get(finding_id) != case.id:
                problems.append(not_of_this_case(
                    session, actor, f"changes.{index}.finding_ids.{position}", Record.FINDING, finding_id,
                    owners.get(finding_id), Message(f"この案件の質問・意見（ID {finding_id}）ではありません。",
                                                    f"Finding {finding_id} is not a finding of this case.")))
    if problems:
        raise InvalidInput(problems)


def add_version(db: Database, clock: Clock, case_id: int, data: NewReportVersion, actor: Actor) -> VersionEntry:
    """Record the next version of the case's report with its changes and withheld parts."""
    now, today = clock.now(), local_today(clock)
    with db.writing(actor) as session:
        # The case row is locked so that two versions added at once cannot take the same number.
        case = cases.load(session, case_id, for_update=True)
        authorize(actor, Action.RECORD_DELIBERATION, case)
        not_future("submitted_on", data.submitted_on, today)
        _check(session, actor, case, data)
        number = (session.exec(select(func.max(ReportVersion.number))
                               .where(ReportVersion.assessment_id == case.id)).one() or 0) + 1
        version = ReportVersion(
            assessment_id=stored_id(case), cycle=case.cycle, number=number, label=data.label,
            document_id=data.document_id, public_document_id=data.public_document_id,
            submitted_on=data.submitted_on, note=data.note, created_at=now,
        )
        session.add(version)
        session.flush()
        changes = []
        for position, item in enumerate(data.changes, start=1):
            finding_ids = list(dict.fromkeys(item.finding_ids))  # each once, in the order given
            change = ReportChange(version_id=stored_id(version), position=position, section=item.section,
                                  before=item.before, after=item.after, reason=item.reason, finding_ids=finding_ids)
            session.add(change)
            changes.append(change)
        withheld = [WithheldPart(version_id=stored_id(version), section=item.section, reason=item.reason)
                    for item in data.withheld]
        session.add_all(withheld)
        resolved = sorted({finding_id for change in changes for finding_id in change.finding_ids})
        for finding in session.exec(select(Finding).where(col(Finding.id).in_(resolved))).all() if resolved else ():
            finding.resolved_in_version_id = version.id
            finding.updated_at = now
            session.add(finding)
        session.flush()
        audit.record(session, audit_actor(actor), "report_version.added", at=now, object_type="report_version",
                     object_id=version.id, detail={
                         "assessment_id": case.id, "cycle": case.cycle, "number": number, "changes": len(changes),
                         "withheld": len(withheld), "resolved_findings": resolved,
                         "document_id": data.document_id, "public_document_id": data.public_document_id})
        return VersionEntry(version, changes, withheld, data.document_id, data.public_document_id)


def _visible_document(session: Session, actor: Actor, case: Assessment, document_id: int | None) -> int | None:
    if document_id is None:
        return None
    document = session.get(Document, document_id)
    return document_id if document is not None and can_know_document(actor, case, document) else None


def versions_of(db: Database, case_id: int, actor: Actor, *, cycle: int | None = None) -> list[VersionEntry]:
    """The case's versions (all cycles unless one is given), oldest first, with changes and withheld parts."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_RECORDS, case)
        conditions = [ReportVersion.assessment_id == case.id]
        if cycle is not None:
            conditions.append(ReportVersion.cycle == cycle)
        versions = session.exec(select(ReportVersion).where(*conditions).order_by(col(ReportVersion.number))).all()
        ids = [version.id for version in versions]
        changes = session.exec(select(ReportChange).where(col(ReportChange.version_id).in_(ids))
                               .order_by(col(ReportChange.version_id), col(ReportChange.position))).all() if ids else []
        withheld = session.exec(select(WithheldPart).where(col(WithheldPart.version_id).in_(ids))
                                .order_by(col(WithheldPart.id))).all() if ids else []
        return [
            VersionEntry(version, [c for c in changes if c.version_id == version.id],
                         [w for w in withheld if w.version_id == version.id],
                         _visible_document(session, actor, case, version.document_id),
                         _visible_document(session, actor, case, version.public_document_id))
            for version in versions
        ]


def changes_of(db: Database, case_id: int, actor: Actor, *, cycle: int | None = None) -> list[ChangeEntry]:
    """修正箇所一覧: every change of the case (all cycles unless one is given) with the findings it answers."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_RECORDS, case)
        conditions = [ReportVersion.assessment_id == case.id]
        if cycle is not None:
            conditions.append(ReportVersion.cycle == cycle)
        rows = session.exec(
            select(ReportChange, ReportVersion).join(ReportVersion, col(ReportChange.version_id) == ReportVersion.id)
            .where(*conditions).order_by(col(ReportVersion.number), col(ReportChange.position))
        ).all()
        wanted = {finding_id for change, _ in rows for finding_id in change.finding_ids}
        findings = {finding.id: finding for finding in session.exec(
            select(Finding).where(col(Finding.id).in_(wanted), Finding.assessment_id == case.id)).all()} \
            if wanted else {}
        return [ChangeEntry(change, version, [findings[i] for i in change.finding_ids if i in findings])
                for change, version in rows]
