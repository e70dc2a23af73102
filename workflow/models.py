"""The tables. Rows stay plain SQLModel tables; the state machine wraps them (workflow.engine)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Index, Integer, TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """An instant stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _instant(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


# The version column is declared once so the mapper can use it for compare-and-swap updates:
# SQLAlchemy then writes `UPDATE … WHERE id = :id AND version = :seen` and refuses a stale write.
_assessment_version = Column("version", Integer, nullable=False)


class Assessment(SQLModel, table=True):
    """One assessment (特定個人情報保護評価) of one 事務, across its cycles (再実施 starts a new one)."""

    __tablename__ = "assessment"
    __table_args__ = (Index("ix_assessment_state_level", "state", "level"),)
    __mapper_args__ = {"version_id_col": _assessment_version}

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    office: str = Field(max_length=100, index=True)

    # しきい値判断 inputs and result
    target_count: int = Field(sa_type=BigInteger)
    handler_count: int = Field(sa_type=BigInteger)
    serious_incident: bool = False
    voluntary_level: str | None = Field(default=None, max_length=16)
    level: str = Field(max_length=16)

    procedure: str = Field(max_length=64)
    state: str = Field(max_length=64)
    version: int = Field(default=1, sa_column=_assessment_version)
    cycle: int = 1

    planned_holding_date: date | None = None  # 保有予定日: the file may not be held before publication

    # Facts the events record (per cycle unless noted)
    comment_start: date | None = None
    comment_end: date | None = None
    comment_shortened_reason: str | None = Field(default=None, max_length=1000)
    comment_count: int | None = None
    reported_on: date | None = None
    submitted_on: date | None = None  # latest submission to the PPC, kept across cycles
    published_on: date | None = None  # latest publication, kept across cycles
    last_reviewed_on: date | None = None
    annual_review_due: date | None = None  # 見直し: at least once a year
    reassessment_due: date | None = None  # 再実施: before five years have passed
    withdrawn_reason: str | None = Field(default=None, max_length=1000)

    state_entered_at: datetime = _instant()
    created_at: datetime = _instant()
    updated_at: datetime = _instant()


class HistoryEntry(SQLModel, table=True):
    """One fired event: append-only; the case's whole story across its cycles."""

    __tablename__ = "assessment_history"
    __table_args__ = (Index("ix_history_assessment_id_id", "assessment_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(sa_column=Column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False))
    cycle: int
    at: datetime = _instant()
    actor: str = Field(max_length=200)
    event: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=64)  # None for the creation entry
    to_state: str = Field(max_length=64)
    procedure: str = Field(max_length=64)
    version: int  # the case's version after this entry
    note: str | None = Field(default=None, max_length=2000)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
