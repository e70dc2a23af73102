"""The audit trail: append-only, each entry chained to the previous one by a SHA-256 hash.

An act's transaction writes its entry as it is (one INSERT); the sweeper then seals entries into
the chain in the order they became visible: each gets the next `seq`, the previous entry's hash and
its own. Sealing takes the head row's lock, so no write of the service waits on it, and an entry is
sealed within the sweeper's interval (a second by default).

Nothing in the application updates or deletes a sealed entry. Altering one breaks its own hash;
deleting one breaks the sequence and the next entry's link; deleting entries at the tail leaves the
head row (last seq, last hash, length) pointing past the end. `verify` names the first entry where
any of this shows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, insert, update
from sqlmodel import Session, col, select

from workflow.columns import table_of
from workflow.db import Database
from workflow.models import AuditEntry, AuditHead
from workflow.policy import Action, Actor, authorize

GENESIS = "0" * 64
_BATCH = 1000


@dataclass(frozen=True)
class AuditActor:
    """Who did it, as the audit trail records them."""

    user_id: int | None
    label: str
    source: str | None = None


def entry_hash(entry: AuditEntry | Mapping[str, Any]) -> str:
    values = entry if isinstance(entry, Mapping) else entry.model_dump()
    canonical = json.dumps(
        {
            "id": values["id"],
            "at": values["at"].astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_user_id": values["actor_user_id"],
            "actor": values["actor"],
            "action": values["action"],
            "object_type": values["object_type"],
            "object_id": values["object_id"],
            "source": values["source"],
            "detail": values["detail"],
            "prev_hash": values["prev_hash"],
        },
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_ENTRIES = table_of(AuditEntry)
_HEAD = table_of(AuditHead)
#: Built once: a statement object keeps its compiled form and cache key between executions.
_APPEND = insert(_ENTRIES)
_LOCK_HEAD = select(_HEAD.c.last_seq, _HEAD.c.last_hash, _HEAD.c.length).where(_HEAD.c.id == 1).with_for_update()
_UNSEALED = (_ENTRIES.select().where(_ENTRIES.c.seq.is_(None)).order_by(_ENTRIES.c.id)
             .limit(bindparam("batch", type_=Integer, literal_execute=True)))
_SEAL = update(_ENTRIES).where(_ENTRIES.c.id == bindparam("entry_id")).values(
    seq=bindparam("new_seq"), prev_hash=bindparam("new_prev_hash"), hash=bindparam("new_hash"))
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(
    last_seq=bindparam("new_last_seq"), last_hash=bindparam("new_last_hash"), length=bindparam("new_length"))
SEAL_BATCH = 1000


def record(session: Session, actor: AuditActor, action: str, *, at: datetime,
           object_type: str | None = None, object_id: Any = None, detail: dict[str, Any] | None = None) -> None:
    """Append one entry inside the caller's transaction (it commits or rolls back with the act)."""
    session.connection().execute(_APPEND, {
        "at": at.astimezone(UTC), "actor_user_id": actor.user_id, "actor": actor.label[:254], "action": action,
        "object_type": object_type, "object_id": None if object_id is None else str(object_id)[:64],
        "source": actor.source, "detail": detail or {},
    })


def seal(db: Database, *, batch: int = SEAL_BATCH) -> int:
    """Chain the entries written since the last run, oldest first; returns how many were sealed.

    Safe to run anywhere at any time: sealers queue on the head row's lock, and an entry of a
    transaction not yet committed is sealed by a later run.
    """
    sealed = 0
    while True:
        with db.writing() as session:
            connection = session.connection()
            head = connection.execute(_LOCK_HEAD).one_or_none()
            if head is None:
                raise RuntimeError("the audit head row is missing: run the migrations")
            last_seq, last_hash, length = head
            entries = connection.execute(_UNSEALED, {"batch": batch}).mappings().all()
            if not entries:
                return sealed
            links = []
            for entry in entries:
                prev_hash, last_seq = last_hash, last_seq + 1
                last_hash = entry_hash({**entry, "prev_hash": prev_hash})
                links.append({"entry_id": entry["id"], "new_seq": last_seq, "new_prev_hash": prev_hash,
                              "new_hash": last_hash})
            connection.execute(_SEAL, links)
            connection.execute(_MOVE_HEAD, {"new_last_seq": last_seq, "new_last_hash": last_hash,
                                            "new_length": length + len(links)})
        sealed += len(links)
        if len(entries) < batch:
            return sealed


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    #: the chain position (seq) of the first entry that does not hold
    broken_seq: int | None = None
    reason: str | None = None
    #: entries written but not sealed yet (the sweeper seals them within its interval)
    pending: int = 0

    def __str__(self) -> str:
        waiting = f"; {self.pending} entries not sealed yet" if self.pending else ""
        if self.ok:
            return f"audit chain intact: {self.checked} entries{waiting}"
        return (f"audit chain broken at entry {self.broken_seq}: {self.reason} "
                f"({self.checked} entries checked{waiting})")


def _sealed(session: Session) -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = session.exec(
            select(AuditEntry).where(col(AuditEntry.seq) > last).order_by(col(AuditEntry.seq)).limit(_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        seq = batch[-1].seq
        if seq is None:  # never: the query asks for entries sealed after `last`
            return
        last = seq


def verify(db: Database, actor: Actor) -> Verdict:
    """Seal what is pending, then walk the chain from the first entry; name the first that does not hold."""
    authorize(actor, Action.READ_AUDIT)
    seal(db)
    with db.reading() as session:
        pending = session.exec(select(func.count()).select_from(AuditEntry).where(col(AuditEntry.seq).is_(None))).one()
        previous_hash, expected, checked = GENESIS, 1, 0
        for entry in _sealed(session):
            if entry.seq != expected:
                return Verdict(False, checked, expected, f"entry {expected} is missing (next is {entry.seq})",
                               pending)
            if entry.prev_hash != previous_hash:
                return Verdict(False, checked, entry.seq, "its link to the previous entry does not match", pending)
            if entry_hash(entry) != entry.hash:
                return Verdict(False, checked, entry.seq, "its content does not match its hash (altered)", pending)
            previous_hash, expected, checked = entry.hash, expected + 1, checked + 1
        head = session.get(AuditHead, 1)
        if head is None:
            return Verdict(False, checked, None, "the head row is missing", pending)
        if (head.last_seq, head.last_hash, head.length) != (expected - 1, previous_hash, checked):
            # Entries deleted at the tail: the first missing one; a head rewound: the first it leaves out.
            return Verdict(False, checked, min(expected, head.last_seq + 1),
                           f"the chain ends at entry {expected - 1} but the head records {head.last_seq}"
                           " (entries deleted at the tail, or the head altered)", pending)
        return Verdict(True, checked, pending=pending)


def entries(db: Database, actor: Actor, *, after_id: int = 0, limit: int = 100) -> list[AuditEntry]:
    """A page of the trail, oldest first, for the secretariat and the administrator."""

    authorize(actor, Action.READ_AUDIT)
    with db.reading() as session:
        return list(session.exec(
            select(AuditEntry).where(col(AuditEntry.id) > after_id).order_by(col(AuditEntry.id)).limit(limit)
        ).all())
