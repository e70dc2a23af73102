"""The audit trail: append-only, each entry chained to the previous one by a SHA-256 hash.

An act's transaction writes its entry as it is (one INSERT); the sweeper then seals entries into
the chain in the order they became visible: each gets the next `seq`, the previous entry's hash and
its own. Sealing takes the head row's lock, so no write of the service waits on it, and an entry is
sealed within the sweeper's interval (a second by default).

Nothing in the application updates or deletes a sealed entry. Altering one breaks its own hash;
deleting one breaks the sequence and the next entry's link; deleting entries at the tail leaves the
head row (last seq, last hash, length) pointing past the end. `verify` names the first entry where
any of this shows.

A writer who can change the database can also rewrite the head row, or every hash after an altered
entry, so that the chain alone looks whole. A `checkpoint` (the head at one moment, a small JSON
file) kept by the secretariat outside the database anchors the chain: `verify` against it sees
entries deleted or rewritten up to it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, insert, update
from sqlmodel import Session, col, select

from workflow.clock import TOKYO
from workflow.columns import table_of
from workflow.db import Database
from workflow.errors import Conflict, DomainError, Message
from workflow.models import Assessment, AuditEntry, AuditHead, Document
from workflow.organisations import DEFAULT_ORGANISATION, EVERY_ORGANISATION, of, record_owner
from workflow.policy import Action, Actor, authorize, can_know_document

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
_PENDING_CHAINS = select(_ENTRIES.c.organisation_id).where(_ENTRIES.c.seq.is_(None)).distinct()
_LOCK_HEAD = (select(_HEAD.c.last_seq, _HEAD.c.last_hash, _HEAD.c.length)
              .where(_HEAD.c.organisation_id == bindparam("organisation")).with_for_update())
_UNSEALED = (_ENTRIES.select().where(_ENTRIES.c.seq.is_(None), _ENTRIES.c.organisation_id == bindparam("organisation"))
             .order_by(_ENTRIES.c.id).limit(bindparam("batch", type_=Integer, literal_execute=True)))
_SEAL = update(_ENTRIES).where(_ENTRIES.c.id == bindparam("entry_id")).values(
    seq=bindparam("new_seq"), prev_hash=bindparam("new_prev_hash"), hash=bindparam("new_hash"))
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.organisation_id == bindparam("organisation")).values(
    last_seq=bindparam("new_last_seq"), last_hash=bindparam("new_last_hash"), length=bindparam("new_length"))
SEAL_BATCH = 1000


def record(session: Session, actor: AuditActor, action: str, *, at: datetime,
           object_type: str | None = None, object_id: Any = None, detail: dict[str, Any] | None = None) -> None:
    """Append one entry inside the caller's transaction (it commits or rolls back with the act), to the
    chain of the organisation the act is in (the session's, or that of the object it names)."""
    session.connection().execute(_APPEND, {
        "organisation_id": record_owner(session, object_type or "", object_id),
        "at": at.astimezone(UTC), "actor_user_id": actor.user_id, "actor": actor.label[:254], "action": action,
        "object_type": object_type, "object_id": None if object_id is None else str(object_id)[:64],
        "source": actor.source[:64] if actor.source else actor.source, "detail": detail or {},
    })


def seal(db: Database, *, batch: int = SEAL_BATCH) -> int:
    """Chain the entries written since the last run, oldest first, each into its organisation's chain;
    returns how many were sealed.

    Safe to run anywhere at any time: sealers queue on the head row's lock, and an entry of a
    transaction not yet committed is sealed by a later run.
    """
    pending = [row[0] for row in db.read(_PENDING_CHAINS, scope=EVERY_ORGANISATION)]
    sealed, headless = 0, []
    for organisation in pending:
        try:
            sealed += _seal_chain(db, organisation, batch)
        except HeadMissing:
            headless.append(organisation)  # the other chains are still sealed
    if headless:
        raise HeadMissing(f"the audit head row of organisation {headless[0]} is missing")
    return sealed


def _seal_chain(db: Database, organisation: int, batch: int) -> int:
    sealed = 0
    while True:
        with db.writing(of(organisation)) as session:
            connection = session.connection()
            head = connection.execute(_LOCK_HEAD, {"organisation": organisation}).one_or_none()
            if head is None:
                raise HeadMissing("the audit head row is missing")
            last_seq, last_hash, length = head
            entries = connection.execute(_UNSEALED, {"batch": batch, "organisation": organisation}).mappings().all()
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
                                            "new_length": length + len(links), "organisation": organisation})
        sealed += len(links)
        if len(entries) < batch:
            return sealed


_HEX64 = re.compile(r"[0-9a-f]{64}")


class HeadMissing(RuntimeError):
    """The head row is gone: nothing can be sealed (the migrations create it; only tampering removes it)."""


class InvalidCheckpoint(DomainError):
    """A checkpoint file that cannot be read as one; the message names what is wrong with it."""

    code = "invalid_checkpoint"

    def __init__(self, ja: str, en: str):
        super().__init__(Message(f"チェックポイントのファイルを使えません（{ja}）",
                                 f"the checkpoint file cannot be used: {en}"))


@dataclass(frozen=True)
class Checkpoint:
    """The head as it stood at one moment, kept by the secretariat outside the database.

    A writer who can change the database can delete entries at the tail, or rewrite entries and
    recompute every later hash and the head row, and the chain alone still looks whole. A copy of
    the head kept elsewhere cannot be rewritten with it: the chain must still reach `seq`, and the
    entry there must still have `hash`.
    """

    seq: int
    length: int
    hash: str
    at: datetime

    def as_dict(self) -> dict[str, int | str]:
        return {"seq": self.seq, "length": self.length, "hash": self.hash,
                "at": self.at.astimezone(TOKYO).isoformat(timespec="seconds")}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Checkpoint:
        """Read a checkpoint file's text; InvalidCheckpoint names what is wrong with it."""
        try:
            data: object = json.loads(text)
        except ValueError:  # not JSON, or not UTF-8
            raise InvalidCheckpoint("JSON ではありません", "it is not JSON") from None
        if not isinstance(data, dict):
            raise InvalidCheckpoint("JSON のオブジェクトではありません", "it is not a JSON object")
        for name in ("seq", "length", "hash", "at"):
            if name not in data:
                raise InvalidCheckpoint(f"項目 {name} がありません", f"it lacks the field '{name}'")
        seq, length, hash_, at = data["seq"], data["length"], data["hash"], data["at"]
        for name, number in (("seq", seq), ("length", length)):
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                raise InvalidCheckpoint(f"項目 {name} が0以上の整数ではありません",
                                        f"its field '{name}' is not a whole number of 0 or more")
        if length != seq:  # a whole chain numbers its entries 1…length
            raise InvalidCheckpoint("項目 length と seq が一致しません", "its fields 'length' and 'seq' disagree")
        if not isinstance(hash_, str) or not _HEX64.fullmatch(hash_):
            raise InvalidCheckpoint("項目 hash が64桁の16進数ではありません",
                                    "its field 'hash' is not 64 hexadecimal digits")
        try:
            instant = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            instant = None
        if instant is None or instant.tzinfo is None:
            raise InvalidCheckpoint("項目 at が時差付きの ISO 8601 日時ではありません",
                                    "its field 'at' is not an ISO 8601 time with its offset")
        return cls(seq, length, hash_, instant.astimezone(TOKYO))



@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    #: the chain position (seq) of the first entry that does not hold, where one does not
    broken_seq: int | None = None
    #: what is wrong, in plain words
    problem: Message | None = None
    #: entries written but not sealed yet (the sweeper seals them within its interval)
    pending: int = 0
    #: the checkpoint the chain was checked against
    checkpoint: Checkpoint | None = None
    #: False when the chain was not walked at all (the checkpoint given could not be read)
    walked: bool = True

    @property
    def reason(self) -> str | None:
        return self.problem.en if self.problem else None

    @property
    def message(self) -> Message:
        """The whole verdict in one sentence, as `shingi audit verify` prints it."""
        ja_waiting = f"、連鎖への登録待ち {self.pending} 件" if self.pending else ""
        en_waiting = f"; {_entries(self.pending)} not sealed yet" if self.pending else ""
        if self.ok:
            ja = f"監査記録の連鎖に異常はありません：{self.checked} 件"
            en = f"audit chain intact: {_entries(self.checked)}"
            if self.checkpoint:
                at, seq = self.checkpoint.as_dict()["at"], self.checkpoint.seq
                ja += f"、{at} のチェックポイント（連番 {seq}）と一致"
                en += f"; agrees with the checkpoint of {at} (entry {seq})"
            return Message(ja + ja_waiting, en + en_waiting)
        problem = self.problem or Message("理由不明", "no reason given")
        if not self.walked:
            return Message(f"監査記録の連鎖を検査していません：{problem.ja}", f"audit chain not checked: {problem.en}")
        ja_where = f"連番 {self.broken_seq} で" if self.broken_seq is not None else ""
        en_where = f" at entry {self.broken_seq}" if self.broken_seq is not None else ""
        return Message(f"監査記録の連鎖が{ja_where}壊れています：{problem.ja}（{self.checked} 件を検査{ja_waiting}）",
                       f"audit chain broken{en_where}: {problem.en} ({_entries(self.checked)} checked{en_waiting})")

    def __str__(self) -> str:
        return self.message.en


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def _sealed(session: Session, organisation: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = session.exec(
            select(AuditEntry).where(AuditEntry.organisation_id == organisation, col(AuditEntry.seq) > last)
            .order_by(col(AuditEntry.seq)).limit(_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        seq = batch[-1].seq
        if seq is None:  # never: the query asks for entries sealed after `last`
            return
        last = seq


#: Where the chain does not hold: the first entry concerned (if any) and what is wrong.
_Break = tuple[int | None, Message]


def verify(db: Database, actor: Actor, *, checkpoint: Checkpoint | str | bytes | None = None) -> Verdict:
    """Seal what is pending, then walk the chain from the first entry; name the first that does not hold.

    With a checkpoint (or a checkpoint file's text), the chain must also still reach the checkpoint's
    entry with the checkpoint's hash: this catches what the database alone cannot, a tail deleted
    together with the head row rewound, or history rewritten with every hash recomputed. Never
    raises over what it finds: every fault, a missing head row or an unreadable checkpoint too, is
    a verdict.
    """
    authorize(actor, Action.READ_AUDIT)
    organisation = chain_of(actor)
    if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
        try:
            checkpoint = Checkpoint.from_json(checkpoint)
        except InvalidCheckpoint as error:
            return Verdict(False, 0, problem=error.message, walked=False)
    with suppress(HeadMissing):  # the walk below still checks every entry; the verdict names the missing head
        seal(db)
    with db.reading(actor) as session:
        if not db.is_sqlite:
            # One snapshot for the walk and the head: the sweeper keeps sealing meanwhile, and a head read
            # after it moved on would look like entries deleted at the tail. (SQLite's read transaction is one.)
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        pending = session.exec(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.organisation_id == organisation, col(AuditEntry.seq).is_(None))).one()
        anchor = checkpoint.seq if checkpoint else None
        checked, last_hash, anchored, broken = _walk(session, organisation, anchor)
        if broken is None:
            broken = _head_break(session.get(AuditHead, organisation), checked, last_hash)
        if broken is None and checkpoint is not None:
            broken = _checkpoint_break(checkpoint, checked, anchored)
    if broken is not None:
        return Verdict(False, checked, broken[0], broken[1], pending, checkpoint)
    return Verdict(True, checked, pending=pending, checkpoint=checkpoint)


def _walk(session: Session, organisation: int, anchor: int | None) -> tuple[int, str, str | None, _Break | None]:
    """The entries in seq order: how many hold, the last one's hash, the hash at seq `anchor`, the first break."""
    previous_hash, checked = GENESIS, 0
    anchored = GENESIS if anchor == 0 else None
    for entry in _sealed(session, organisation):
        expected = checked + 1
        if entry.seq != expected:
            return checked, previous_hash, anchored, (expected, Message(
                f"連番 {expected} の記録がありません（次は連番 {entry.seq}）",
                f"entry {expected} is missing (the next is {entry.seq})"))
        if entry.prev_hash != previous_hash:
            return checked, previous_hash, anchored, (expected, Message(
                "直前の記録とのつながり（ハッシュ）が一致しません",
                "its link to the previous entry does not match"))
        if entry.hash is None or entry_hash(entry) != entry.hash:
            return checked, previous_hash, anchored, (expected, Message(
                "内容がハッシュと一致しません（改変されています）",
                "its content does not match its hash (altered)"))
        previous_hash, checked = entry.hash, expected
        if expected == anchor:
            anchored = entry.hash
    return checked, previous_hash, anchored, None


def _head_break(head: AuditHead | None, end: int, last_hash: str) -> _Break | None:
    """The head row against a chain whose entries all hold, ending at seq `end` with `last_hash`."""
    if head is None:
        return None, Message("連鎖の末尾を記録する行（audit_head）がありません（削除されています）",
                             "the head row (audit_head), which records the end of the chain, is missing (deleted)")
    if head.last_seq > end:  # the first entry missing
        return end + 1, Message(
            f"連鎖は連番 {end} で終わっていますが、audit_head は連番 {head.last_seq} までを記録しています"
            "（末尾の記録の削除、または audit_head の改変）",
            f"the chain ends at entry {end} but the head row records entries up to {head.last_seq}"
            " (entries deleted at the tail, or the head row altered)")
    if head.last_seq < end:  # the first entry the head leaves out
        return max(head.last_seq + 1, 1), Message(
            f"audit_head は連番 {head.last_seq} を末尾としていますが、連鎖は連番 {end} まで続いています"
            "（audit_head の巻き戻し、または手作業による記録の追加）",
            f"the head row records entry {head.last_seq} as the last but the chain goes on to entry {end}"
            " (the head row rewound, or entries added by hand)")
    if head.last_hash != last_hash:
        return end or None, Message(
            f"audit_head のハッシュが末尾の記録（連番 {end}）のハッシュと一致しません（audit_head またはその記録の改変）",
            f"the head row's hash is not that of the last entry, {end} (the head row or that entry altered)")
    if head.length != end:
        return None, Message(
            f"audit_head は長さを {head.length} 件と記録していますが、連鎖は {end} 件です（audit_head の改変）",
            f"the head row records a length of {head.length} but the chain holds {end} entries"
            " (the head row altered)")
    return None


def _checkpoint_break(checkpoint: Checkpoint, end: int, anchored: str | None) -> _Break | None:
    at = checkpoint.as_dict()["at"]
    if end < checkpoint.seq:
        return end + 1, Message(
            f"連鎖は連番 {end} で終わっていますが、{at} のチェックポイントは連番 {checkpoint.seq} までを記録しています"
            "（末尾の記録の削除）",
            f"the chain ends at entry {end} but the checkpoint of {at} records entries up to {checkpoint.seq}"
            " (entries deleted at the tail)")
    if anchored != checkpoint.hash:
        return checkpoint.seq, Message(
            f"連番 {checkpoint.seq} の記録のハッシュが {at} のチェックポイントと異なります（そこまでの記録の書き換え）",
            f"entry {checkpoint.seq} no longer has the hash the checkpoint of {at} records"
            " (the history up to it rewritten)")
    return None


#: The head and the entry it names, read in one statement (one snapshot).
_HEAD_AND_LAST = (select(_HEAD.c.last_seq, _HEAD.c.length, _HEAD.c.last_hash, _ENTRIES.c.hash)
                  .select_from(_HEAD.outerjoin(_ENTRIES, (_ENTRIES.c.seq == _HEAD.c.last_seq)
                                               & (_ENTRIES.c.organisation_id == _HEAD.c.organisation_id)))
                  .where(_HEAD.c.organisation_id == bindparam("organisation")))


def chain_of(actor: Actor) -> int:
    """The chain an actor verifies: their organisation's (the service's own commands: the first one's)."""
    return actor.organisation_id if actor.organisation_id is not None else DEFAULT_ORGANISATION


def checkpoint(db: Database, actor: Actor, now: datetime) -> Checkpoint:
    """The head as it stands after sealing, for the secretariat to keep outside the database.

    Refused (Conflict) when the head row is missing or disagrees with the entry it names: a
    checkpoint of a broken head would vouch for it. It does not walk the chain; `verify` does.
    """
    authorize(actor, Action.READ_AUDIT)
    with suppress(HeadMissing):  # refused below
        seal(db)
    rows = db.read(_HEAD_AND_LAST, {"organisation": chain_of(actor)}, scope=actor)
    if not rows:
        raise Conflict(Message("連鎖の末尾を記録する行（audit_head）がないため、チェックポイントを作れません。",
                               "The head row (audit_head) is missing: no checkpoint can be taken."))
    last_seq, length, last_hash, hash_at_head = rows[0]
    if length != last_seq or last_hash != (GENESIS if last_seq == 0 else hash_at_head):
        raise Conflict(Message(
            "audit_head が記録と一致しないため、チェックポイントを作れません。監査記録の検査で確かめてください。",
            "The head row disagrees with the entries: no checkpoint can be taken. Verify the audit trail."))
    return Checkpoint(last_seq, length, last_hash, now.astimezone(TOKYO))


def entries(db: Database, actor: Actor, *, after_id: int = 0, limit: int = 100) -> list[AuditEntry]:
    """A page of the trail, oldest first, for the secretariat and the administrator."""

    authorize(actor, Action.READ_AUDIT)
    with db.reading(actor) as session:
        page = list(session.exec(
            select(AuditEntry).where(col(AuditEntry.id) > after_id).order_by(col(AuditEntry.id)).limit(limit)
        ).all())
        return _without_hidden_titles(session, page, actor)


def _document_named(entry: AuditEntry) -> int | None:
    """The document an entry names together with a title, if any (entries written before the trail named
    confidential material by id and classification alone)."""
    if not isinstance(entry.detail, dict) or "title" not in entry.detail:
        return None
    named = entry.detail.get("document_id", entry.object_id if entry.object_type == "document" else None)
    try:
        return int(named) if named is not None else None
    except (TypeError, ValueError):
        return None


def _without_hidden_titles(session: Session, page: list[AuditEntry], actor: Actor) -> list[AuditEntry]:
    """The page as the reader may see it: a title an older entry gives to a document the reader may not
    know of, or to one purged after the review, is left out of the copy shown (the entry itself, hashed
    into the chain, is never changed)."""
    named = {entry.id: document_id for entry in page if (document_id := _document_named(entry)) is not None}
    if not named:
        return page
    rows = session.exec(select(Document, Assessment).join(Assessment, col(Assessment.id) == Document.assessment_id)
                        .where(col(Document.id).in_(set(named.values())))).all()
    shown = {document.id for document, case in rows
             if document.purged_at is None and can_know_document(actor, case, document)}
    kept = []
    for entry in page:
        if entry.id in named and named[entry.id] not in shown:
            detail = {key: value for key, value in entry.detail.items() if key != "title"}
            entry = AuditEntry.model_validate({**entry.model_dump(), "detail": detail})
        kept.append(entry)
    return kept
