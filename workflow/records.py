"""Tables of the deliberation record: meetings, findings, report versions, public comments,
opinions, the subcommittee report and the reply (答申), and minutes.

A case here is any row of `assessment` (an assessment or a consultation); records of one cycle of a
case carry its `cycle` so that a re-assessment starts a fresh record while the old one stays.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflow.columns import UTCDateTime
from workflow.organisations import Owned, organisation_field

_meeting_version = Column("version", Integer, nullable=False)


def _case_id() -> Any:
    return Field(sa_column=Column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False,
                                  index=True))


def _text(**kwargs: Any) -> Any:
    return Field(sa_type=Text, **kwargs)


def _instant(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class Meeting(SQLModel, Owned, table=True):
    """A meeting of a body (第N回), scheduled, held or cancelled."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("body_id", "term", "number"),)
    __mapper_args__ = {"version_id_col": _meeting_version}

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    body_id: int = Field(foreign_key="body.id", index=True)
    term: str = Field(default="", max_length=20)  # 第16期 — numbering restarts with each term
    number: int  # 第N回
    starts_at: datetime = _instant(index=True)
    ends_at: datetime | None = _instant(default=None, nullable=True)
    venue: str = Field(max_length=200)
    is_public: bool = True
    #: scheduled | held | cancelled
    status: str = Field(default="scheduled", max_length=16, index=True)
    observers: int | None = None  # 傍聴者数
    closed_reason: str | None = Field(default=None, max_length=500)  # why it is not public (非公開の理由)
    cancelled_reason: str | None = Field(default=None, max_length=500)
    #: Raised whenever date, time or venue change (iCalendar SEQUENCE; change notices).
    sequence: int = 0
    version: int = Field(default=1, sa_column=_meeting_version)
    created_at: datetime = _instant()
    updated_at: datetime = _instant()


class AgendaItem(SQLModel, Owned, table=True):
    """議題: one item of a meeting, usually about one case."""

    __tablename__ = "agenda_item"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    meeting_id: int = Field(sa_column=Column(Integer, ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False,
                                             index=True))
    position: int
    assessment_id: int | None = Field(default=None, foreign_key="assessment.id", index=True)
    #: pre_check (事前点検) | third_party_review (第三者点検) | reply_draft (答申案検討) | report (報告) | other
    purpose: str = Field(max_length=32)
    title: str = Field(max_length=300)


class Attendance(SQLModel, Owned, table=True):
    """Who attended (出席者), by name as the minutes write it, linked to the account when there is one."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    meeting_id: int = Field(sa_column=Column(Integer, ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False,
                                             index=True))
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    name: str = Field(max_length=200)
    #: member | chair | acting_chair | secretariat | office | reference (参考人) | observer_member
    role: str = Field(max_length=20)
    present: bool = True


class Finding(SQLModel, Owned, table=True):
    """A member's question or opinion (委員からの質問事項・意見) and the office's answer."""

    __tablename__ = "finding"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    assessment_id: int = _case_id()
    cycle: int = 1
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)  # None: raised in writing
    raised_by: str = Field(max_length=200)
    raised_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    raised_on: date
    kind: str = Field(default="question", max_length=16)  # question | opinion | request
    section: str | None = Field(default=None, max_length=200)  # e.g. Ⅲ リスク対策 / 評価書 p.36
    text: str = _text()
    answer: str | None = _text(default=None, nullable=True)
    answered_on: date | None = None
    answered_at_meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    #: open | answered | closed | carried (持ち越し)
    status: str = Field(default="open", max_length=16, index=True)
    carried_to_meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    resolved_in_version_id: int | None = Field(default=None, foreign_key="report_version.id")
    created_at: datetime = _instant()
    updated_at: datetime = _instant()


class ReportVersion(SQLModel, Owned, table=True):
    """One version of the assessment report (評価書): the full one and, if any, the public one."""

    __tablename__ = "report_version"
    __table_args__ = (UniqueConstraint("assessment_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    assessment_id: int = _case_id()
    cycle: int = 1
    number: int  # 第N版, counted across cycles
    label: str = Field(default="", max_length=100)  # 例: 第三者点検後修正版
    document_id: int | None = Field(default=None, foreign_key="document.id")
    public_document_id: int | None = Field(default=None, foreign_key="document.id")
    submitted_on: date
    note: str | None = _text(default=None, nullable=True)
    created_at: datetime = _instant()


class ReportChange(SQLModel, Owned, table=True):
    """修正箇所: one change a version makes, with before/after, its reason and the findings it answers."""

    __tablename__ = "report_change"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    version_id: int = Field(sa_column=Column(Integer, ForeignKey("report_version.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    position: int
    section: str = Field(max_length=200)
    before: str = _text()
    after: str = _text()
    reason: str = _text()
    finding_ids: list[int] = Field(default_factory=list, sa_type=JSON)


class WithheldPart(SQLModel, Owned, table=True):
    """A part of the public version withheld (非公開部分), with the recorded reason."""

    __tablename__ = "withheld_part"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    version_id: int = Field(sa_column=Column(Integer, ForeignKey("report_version.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    section: str = Field(max_length=200)
    reason: str = _text()


class PublicComment(SQLModel, Owned, table=True):
    """A comment received during the public comment (住民等の意見), and the office's response."""

    __tablename__ = "public_comment"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    assessment_id: int = _case_id()
    cycle: int = 1
    received_on: date
    channel: str = Field(max_length=16)  # web | email | fax | post | counter | other
    submitter: str = Field(max_length=100)  # anonymised (例: 市民A)
    summary: str = _text()  # 意見の概要
    response: str | None = _text(default=None, nullable=True)  # 実施機関の考え方
    change_id: int | None = Field(default=None, foreign_key="report_change.id")
    no_change_reason: str | None = _text(default=None, nullable=True)
    created_at: datetime = _instant()


class Opinion(SQLModel, Owned, table=True):
    """部会の意見: the verdict, its conditions and supplementary opinions (附帯意見・なお書き)."""

    __tablename__ = "opinion"
    __table_args__ = (UniqueConstraint("assessment_id", "cycle", "body_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    assessment_id: int = _case_id()
    cycle: int = 1
    body_id: int = Field(foreign_key="body.id")
    #: appropriate (妥当) | appropriate_with_conditions (条件付きで妥当) | no_particular_problem (特段の支障なし)
    #: | inappropriate (不適当)
    verdict: str = Field(max_length=32)
    conditions: list[str] = Field(default_factory=list, sa_type=JSON)
    supplementary: list[str] = Field(default_factory=list, sa_type=JSON)
    decided_at_meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    decided_on: date
    created_at: datetime = _instant()


class Resolution(SQLModel, Owned, table=True):
    """The subcommittee's report to the plenary (部会報告) or the council's reply (答申): drafted,
    possibly delegated to the chair to finalise (会長一任), then adopted with a date."""

    __tablename__ = "resolution"
    __table_args__ = (UniqueConstraint("assessment_id", "cycle", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    assessment_id: int = _case_id()
    cycle: int = 1
    kind: str = Field(max_length=24)  # subcommittee_report | reply
    body_id: int = Field(foreign_key="body.id")
    title: str = Field(max_length=300)
    text: str = _text()  # the generated text, as edited
    #: draft | delegated (会長一任) | adopted
    status: str = Field(default="draft", max_length=16)
    delegated_to: str | None = Field(default=None, max_length=200)
    adopted_on: date | None = None
    adopted_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = _instant()
    updated_at: datetime = _instant()


class Minutes(SQLModel, Owned, table=True):
    """会議録: drafted, sent to members for corrections, corrected, confirmed by the chair, published."""

    __tablename__ = "minutes"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    meeting_id: int = Field(sa_column=Column(Integer, ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False,
                                             unique=True))
    #: draft | correcting | confirmed | published
    status: str = Field(default="draft", max_length=16)
    #: [{"speaker": "部会長", "text": "…", "public": true}, …] — non-public passages stay out of the public version
    passages: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    correction_deadline: date | None = None
    sent_on: date | None = None
    confirmed_on: date | None = None
    confirmed_by: str | None = Field(default=None, max_length=200)
    published_on: date | None = None
    created_at: datetime = _instant()
    updated_at: datetime = _instant()


class MinutesCorrection(SQLModel, Owned, table=True):
    """A member's correction to the draft minutes."""

    __tablename__ = "minutes_correction"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = organisation_field()
    minutes_id: int = Field(sa_column=Column(Integer, ForeignKey("minutes.id", ondelete="CASCADE"), nullable=False,
                                             index=True))
    member: str = Field(max_length=200)
    received_on: date
    passage_index: int | None = None
    text: str = _text()
    applied: bool = False
