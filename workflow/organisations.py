"""Organisations (団体: 都道府県・市区町村・一部事務組合): one install serves many, and nothing crosses between them.

Every row of the record belongs to one organisation (`organisation_id`, on the tables that mix in
`Owned`). A session is opened for a *scope*: the organisation of the actor who asks, or every
organisation for the service itself (the scheduler, the operators' commands) and for the anonymous
public, who reads only what is published. The scope is enforced here, once, for every query of
the domain rather than in each service:

- every ORM statement of a scoped session reads, counts, updates and deletes only the rows of its
  organisation (`with_loader_criteria` on `Owned`, subqueries and joins included);
- every row a session adds is stamped with its organisation: the scope's, or, for a session of
  every organisation, that of the row it belongs to (a case's history entry, a meeting's agenda
  item …); a row that names another organisation than its session's is refused;
- on PostgreSQL, row-level security holds the same boundary a second time (`workflow/db.py` sets
  the role and the organisation at the start of each transaction for one organisation; the policies
  are migration 0009).

A single-organisation install (the embedded SQLite default) has one organisation, id 1, made by the
migrations; it needs no configuration.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import JSON, column, event, inspect
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlmodel import Field, Session, SQLModel, select

from workflow.calendar import DEFAULT_CLOSURE_SETTING

#: The organisation of a single-organisation install (made by the migrations).
DEFAULT_ORGANISATION = 1


class Organisation(SQLModel, table=True):
    """One 団体: its name, what it is, and the head its councils reply to."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    #: 全国地方公共団体コード (6 digits) or any short code the operator chooses; unique.
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=100)  # 例: 千葉市
    #: prefecture (都道府県) | municipality (市区町村) | association (一部事務組合 …)
    kind: str = Field(default="municipality", max_length=16)
    #: The head its councils reply to (例: 千葉市長, 福岡県知事).
    head_title: str = Field(max_length=100)
    #: Its own recurring closure days besides weekends and national holidays (休日条例): "MM-DD" or
    #: "MM-DD..MM-DD", comma-separated (workflow.calendar). Deadlines and reminders of its record follow them.
    closure_days: str = Field(default=DEFAULT_CLOSURE_SETTING, max_length=500)
    #: One-off closure days (臨時閉庁日), as ISO dates.
    closed_dates: list[str] = Field(default_factory=list, sa_type=JSON)


class Owned:
    """Mixed into every table whose rows belong to an organisation (they declare `organisation_id`)."""


def organisation_field() -> Any:
    """The `organisation_id` column of an owned table: required, indexed, and never changed."""
    return Field(default=None, foreign_key="organisation.id", nullable=False, index=True)


class Scoped(Protocol):
    """Whoever a session is opened for: an actor, or a `Scope`. None is every organisation."""

    @property
    def organisation_id(self) -> int | None: ...


@dataclass(frozen=True)
class Scope:
    organisation_id: int | None


#: The service itself: the scheduler's sweeps, migrations' companions, the operators' commands.
EVERY_ORGANISATION = Scope(None)


def of(organisation_id: int) -> Scope:
    return Scope(organisation_id)


def organisation_coded(code: str) -> Any:
    """The id of the organisation with this code, as a subquery (no row: no organisation)."""
    return select(Organisation.id).where(Organisation.code == code).scalar_subquery()


_SCOPE = "shingi_organisation"


def session_info(scope: Scoped) -> dict[str, Any]:
    """What a Session is opened with for `scope` (workflow.db)."""
    return {_SCOPE: scope.organisation_id}


def scope_of(session: Session) -> int | None:
    """The organisation a session reads and writes (None: every organisation)."""
    return session.info.get(_SCOPE)


class OutsideOrganisation(RuntimeError):
    """A row was about to be written into another organisation than its session's, or with none."""


@event.listens_for(Session, "do_orm_execute")
def _only_the_organisation(state: ORMExecuteState) -> None:
    organisation = state.session.info.get(_SCOPE)
    if organisation is None or state.is_column_load or state.is_relationship_load:
        return
    state.statement = _scoped(state.statement, organisation)


#: A statement built once and run often (a module's prebuilt SELECT) keeps its scoped copies: a new copy
#: per execution would compute its cache key again each time, which costs more than running it.
_SCOPED_COPIES: weakref.WeakKeyDictionary[Any, dict[int, Any]] = weakref.WeakKeyDictionary()


def _scoped(statement: Any, organisation: int) -> Any:
    copies = _SCOPED_COPIES.get(statement)
    if copies is None:
        copies = _SCOPED_COPIES[statement] = {}
    copy = copies.get(organisation)
    if copy is None:
        copy = copies[organisation] = statement.options(_only(organisation))
    return copy


@functools.lru_cache(maxsize=8192)
def _only(organisation: int) -> Any:
    """The option that limits a statement to one organisation, made once per organisation: making it
    analyses its lambda, which costs more than the query it is added to."""
    _registered()
    return with_loader_criteria(Owned, lambda cls: cls.organisation_id == organisation, include_aliases=True)


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    organisation = session.info.get(_SCOPE)
    _registered()
    for row in session.new:
        if not isinstance(row, Owned):
            continue
        stamped = getattr(row, "organisation_id", None)
        if stamped is None:
            stamped = organisation if organisation is not None else owner_of(session, row)
            row.organisation_id = stamped  # type: ignore[attr-defined]
        elif organisation is not None and stamped != organisation:
            raise OutsideOrganisation(
                f"a new {type(row).__name__} of organisation {stamped} in a session of organisation {organisation}")


def owner_of(session: Session, row: Any) -> int:
    """For a session of every organisation: the organisation of the owned row a new row refers to (its
    case, meeting, body, user …); a row that refers to none (an office, a body, a user the service adds
    by itself) is the install's first organisation's."""
    return _parent_organisation(session, row) or DEFAULT_ORGANISATION


def record_owner(session: Session, table: str, row_id: Any) -> int:
    """The organisation of the row `row_id` of `table` (an audit entry's object), seen from `session`."""
    organisation = session.info.get(_SCOPE)
    if organisation is not None:
        return organisation
    model = _registered().get(_TABLE_ALIASES.get(table, table))
    if model is not None and row_id is not None:
        try:
            found = session.get(model, int(row_id))
        except (TypeError, ValueError):
            found = None
        if found is not None:
            return found.organisation_id
    return DEFAULT_ORGANISATION


#: Names the audit trail gives objects where they differ from their table's.
_TABLE_ALIASES = {"user": "user_account"}


def _parent_organisation(session: Session, row: Any) -> int | None:
    """The organisation of the owned row a new row refers to (its case, meeting, body, user …)."""
    table = inspect(type(row)).local_table
    for foreign_key in table.foreign_keys:
        if foreign_key.parent.name == "organisation_id":
            continue
        value = getattr(row, foreign_key.parent.key, None)
        if value is None:
            continue
        parent = _OWNED_BY_TABLE.get(getattr(foreign_key.column.table, "name", ""))
        if parent is None:
            continue
        found = session.get(parent, value)
        if found is not None:
            return found.organisation_id
    return None


_OWNED_BY_TABLE: dict[str, Any] = {}


def _registered() -> dict[str, Any]:
    """The owned tables by name, gathered on first use, when every table has been defined.

    `with_loader_criteria` builds its criterion once against the mixin itself before applying it to
    each table: the mixin gets a stand-in column for that, only now (a column on the mixin while
    SQLModel makes the tables would be taken for a field of each)."""
    if not _OWNED_BY_TABLE:
        Owned.organisation_id = column("organisation_id")  # type: ignore[attr-defined]
        for mapper in SQLModel._sa_registry.mappers:  # SQLModel's registry of table classes
            if issubclass(mapper.class_, Owned):
                _OWNED_BY_TABLE[getattr(mapper.local_table, "name", "")] = mapper.class_
    return _OWNED_BY_TABLE


def owned_tables() -> list[str]:
    """The tables whose rows belong to an organisation (row-level security covers each)."""
    return sorted(_registered())
