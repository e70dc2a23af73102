"""The audit trail: append-only, each entry chained to the previous one by a SHA-256 hash.

Nothing in the application updates or deletes an entry. Altering an entry breaks its own hash;
deleting one breaks the sequence of ids and the next entry's link; deleting entries at the tail
leaves the head row (last id, last hash, length) pointing past the end. `verify` names the first
entry where any of this shows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from workflow.db import Database
from workflow.models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from workflow.policy import Actor

GENESIS = "0" * 64
_BATCH = 1000


@dataclass(frozen=True)
class AuditActor:
    """Who did it, as the audit trail records them."""

    user_id: int | None
    label: str
    source: str | None = None


def entry_hash(entry: AuditEntry) -> str:
    canonical = json.dumps(
        {
            "id": entry.id,
            "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_user_id": entry.actor_user_id,
            "actor": entry.actor,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "source": entry.source,
            "detail": entry.detail,
            "prev_hash": entry.prev_hash,
        },
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(session: Session, actor: AuditActor, action: str, *, at: datetime,
           object_type: str | None = None, object_id: Any = None, detail: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry inside the caller's transaction (it commits or rolls back with the act)."""
    head = session.get(AuditHead, 1, with_for_update=True)  # serialises appends across processes
    if head is None:
        raise RuntimeError("the audit head row is missing: run the migrations")
    entry = AuditEntry(
        id=head.last_id + 1, at=at.astimezone(UTC),
        actor_user_id=actor.user_id, actor=actor.label[:254], action=action, object_type=object_type,
        object_id=None if object_id is None else str(object_id), source=actor.source, detail=detail or {},
        prev_hash=head.last_hash, hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    head.last_id, head.last_hash, head.length = entry.id, entry.hash, head.length + 1
    session.add(head)
    return entry


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} entries"
        return f"audit chain broken at entry {self.broken_id}: {self.reason} ({self.checked} entries checked)"


def _entries(session: Session) -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = session.exec(
            select(AuditEntry).where(col(AuditEntry.id) > last).order_by(col(AuditEntry.id)).limit(_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def verify(db: Database) -> Verdict:
    """Walk the chain from the first entry; name the first entry that does not hold."""
    with db.reading() as session:
        previous_hash, expected_id, checked = GENESIS, 1, 0
        for entry in _entries(session):
            if entry.id != expected_id:
                return Verdict(False, checked, expected_id, f"entry {expected_id} is missing (next is {entry.id})")
            if entry.prev_hash != previous_hash:
                return Verdict(False, checked, entry.id, "its link to the previous entry does not match")
            if entry_hash(entry) != entry.hash:
                return Verdict(False, checked, entry.id, "its content does not match its hash (altered)")
            previous_hash, expected_id, checked = entry.hash, expected_id + 1, checked + 1
        head = session.get(AuditHead, 1)
        if head is None:
            return Verdict(False, checked, None, "the head row is missing")
        if (head.last_id, head.last_hash, head.length) != (expected_id - 1, previous_hash, checked):
            # Entries deleted at the tail: the first missing one; a head rewound: the first it leaves out.
            return Verdict(False, checked, min(expected_id, head.last_id + 1),
                           f"the chain ends at entry {expected_id - 1} but the head records {head.last_id}"
                           " (entries deleted at the tail, or the head altered)")
        return Verdict(True, checked)


def entries(db: Database, actor: Actor, *, after_id: int = 0, limit: int = 100) -> list[AuditEntry]:
    """A page of the trail, oldest first, for the secretariat and the administrator."""
    from workflow.policy import Action, authorize

    authorize(actor, Action.READ_AUDIT)
    with db.reading() as session:
        return list(session.exec(
            select(AuditEntry).where(col(AuditEntry.id) > after_id).order_by(col(AuditEntry.id)).limit(limit)
        ).all())
