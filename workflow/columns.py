"""Column types shared by every table, and typed access to what SQLModel's table classes leave untyped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import DateTime, Table, TypeDecorator
from sqlalchemy.orm import class_mapper
from sqlmodel import Session, SQLModel

from workflow.errors import Record, RecordNotFound

#: Ids are 32-bit integers in every table (INTEGER on PostgreSQL); anything outside is no row at all.
MAX_ID = 2**31 - 1


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


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class (its `__table__`, which SQLModel does not declare)."""
    table = class_mapper(model, configure=False).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Stored) -> int:
    """The primary key of a row that has been written (flushed) or read: SQLModel types every `id`
    `int | None`, the None being only that of a new row before its INSERT."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: it has not been flushed")
    return row.id


_Row = TypeVar("_Row", bound=SQLModel)


def load_row(session: Session, model: type[_Row], row_id: int, record: Record, *, for_update: bool = False) -> _Row:
    """The row of `model` with the id a request named, or RecordNotFound. An id outside the column's
    range is no row at all: it is not sent to the database (where PostgreSQL would refuse it)."""
    row = session.get(model, row_id, with_for_update=for_update) if 0 < row_id <= MAX_ID else None
    if row is None:
        raise RecordNotFound(record, row_id)
    return row
