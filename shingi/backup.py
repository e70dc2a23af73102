"""A backup of the whole service in one archive, and its restore: the database and the file store together.

The archive is a tar file, its members in this order:

    manifest.json            what the archive holds: the kind of database and its schema revision, the counts,
                             the audit chain's checkpoint at backup time, and the SHA-256 and size of every member
    database.sqlite3         a consistent copy made with SQLite's online backup API while the service writes, or
    database.pgdump          pg_dump's custom format, taken in the snapshot the counts were read in
    files/<ab>/<key>         the content of every document the copied database refers to

The manifest comes first, so that a file that is not a backup is turned away at its first member, and it
carries the SHA-256 of its own other fields: a byte changed in any member, the manifest included, is found
before anything is restored. (The hashes find damage, not forgery: whoever can rewrite the archive can
rewrite them too; a checkpoint kept elsewhere, `shingi audit checkpoint`, is what anchors the audit chain.)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

import shingi
from shingi import migrations
from workflow import audit, documents
from workflow.audit import Checkpoint, InvalidCheckpoint, Verdict
from workflow.clock import TOKYO, Clock
from workflow.columns import table_of
from workflow.db import ROW_SECURITY_ROLE, Database
from workflow.errors import Conflict, DomainError, Message
from workflow.files import FileStore
from workflow.models import Assessment, AuditEntry, Document
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Actor

FORMAT = "shingi-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: The database's member, by the kind of database it holds.
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_FILE_MEMBER = re.compile(r"files/([0-9a-f]{2})/(\1[0-9a-f]{30})")
_HEX64 = re.compile(r"[0-9a-f]{64}")
#: A backup that finds a document's content gone (purged after the copy of the database) starts again.
ATTEMPTS = 3
#: The largest manifest read (a foreign archive's first member may be anything).
_MANIFEST_LIMIT = 256 * 1024 * 1024
_CHUNK = 1024 * 1024


class BackupError(DomainError):
    """A backup or a restore that cannot be done; the message says why."""

    code = "backup_failed"


class InvalidArchive(BackupError):
    """A file that is not a whole shingi backup: damaged, cut short, or something else altogether."""

    code = "invalid_backup"

    def __init__(self, archive: Path, ja: str, en: str):
        super().__init__(Message(f"{archive} は復元に使えません：{ja}", f"{archive} cannot be restored: {en}"))


@dataclass(frozen=True)
class Counts:
    cases: int
    documents: int
    audit_entries: int

    def message(self, files: int | None = None) -> Message:
        """The counts in words; with `files`, how many documents' content the archive holds."""
        ja_files = f"（ファイル {files} 個）" if files is not None else ""
        en_files = f" ({_several(files, 'file')})" if files is not None else ""
        return Message(f"案件 {self.cases} 件、資料 {self.documents} 件{ja_files}、監査記録 {self.audit_entries} 件",
                       f"{_several(self.cases, 'case')}, {_several(self.documents, 'document')}{en_files}, "
                       f"{_several(self.audit_entries, 'audit entry', 'audit entries')}")


def _several(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one}" if count == 1 else f"{count} {many or one + 's'}"


@dataclass(frozen=True)
class Member:
    """One member of the archive: its name, the SHA-256 and the size of its content."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """What an archive holds (its first member, manifest.json)."""

    created_at: datetime
    #: "sqlite" or "postgresql"
    database: str
    #: the Alembic revision of the copied schema
    revision: str
    counts: Counts
    #: the head of the audit chain just before the copy (None when the head row disagreed with the entries)
    checkpoint: Checkpoint | None
    #: the database first, then the documents' content
    members: tuple[Member, ...]
    shingi_version: str = shingi.__version__

    @property
    def files(self) -> int:
        return len(self.members) - 1

    def as_dict(self) -> dict[str, Any]:
        body = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "shingi_version": self.shingi_version,
            "created_at": self.created_at.astimezone(TOKYO).isoformat(timespec="seconds"),
            "database": {"kind": self.database, "revision": self.revision},
            "counts": {**asdict(self.counts), "files": self.files},
            "audit_checkpoint": self.checkpoint.as_dict() if self.checkpoint else None,
            "members": [asdict(member) for member in self.members],
        }
        return {**body, "sha256": _digest(body)}

    def to_bytes(self) -> bytes:
        return (json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _digest(body: dict[str, Any]) -> str:
    """The manifest's own SHA-256: of its other fields, as canonical JSON."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def default_name(now: datetime) -> str:
    """shingi-backup-20250602-090000.tar: the time in Tokyo."""
    return f"shingi-backup-{now.astimezone(TOKYO):%Y%m%d-%H%M%S}.tar"


# --- backup ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    """A written archive and what its manifest says."""

    path: Path
    manifest: Manifest
    #: why no audit checkpoint was taken, if none was
    checkpoint_refused: Message | None = None

    @property
    def message(self) -> Message:
        manifest = self.manifest
        counts = manifest.counts.message(manifest.files)
        kind = "SQLite" if manifest.database == "sqlite" else "PostgreSQL"
        ja = f"バックアップを {self.path} に書き出しました：{counts.ja}、{kind} データベース（スキーマ {manifest.revision}）"
        en = f"backup written to {self.path}: {counts.en}; {kind} database at schema revision {manifest.revision}"
        if manifest.checkpoint is not None:
            ja += f"、監査記録の連鎖は連番 {manifest.checkpoint.seq} まで"
            en += f"; audit chain up to entry {manifest.checkpoint.seq}"
        elif self.checkpoint_refused is not None:
            ja += f"。監査記録のチェックポイントはありません：{self.checkpoint_refused.ja}"
            en += f"; no audit checkpoint: {self.checkpoint_refused.en}"
        return Message(ja, en)


@dataclass(frozen=True)
class _Content:
    """A document's content that the copied database refers to."""

    document_id: int
    key: str
    sha256: str
    size: int

    @property
    def member(self) -> str:
        return f"files/{self.key[:2]}/{self.key}"


@dataclass(frozen=True)
class _Copy:
    """The database copied to `path` at one moment, and what the manifest says of that moment."""

    path: Path
    revision: str
    counts: Counts
    contents: list[_Content]


class _ContentGone(Exception):
    """A document's content is missing from the file store or no longer matches its SHA-256."""

    def __init__(self, content: _Content):
        super().__init__(content.key)
        self.content = content


def back_up(db: Database, files: FileStore, clock: Clock, actor: Actor, output: Path) -> Backup:
    """Write the database and the content of its documents into one archive at `output`, while the service runs.

    Only the content the copied database refers to goes in: the file store may also hold content left by
    an upload not yet committed or a purge cut short, and a backup must never bring back material that was
    deleted after the review. If content the copy refers to is purged before it is read, the copy is
    stale: the backup starts again (a content that stays missing is a damaged file store, and an error).
    """
    output = output.absolute()
    for _ in range(ATTEMPTS):
        try:
            return _attempt(db, files, clock, actor, output)
        except _ContentGone as error:
            gone = error.content
        except OSError as error:
            raise BackupError(Message(f"{output} に書き込めません：{error.strerror or error}",
                                      f"cannot write {output}: {error.strerror or error}")) from None
    raise BackupError(Message(
        f"資料 {gone.document_id} の内容がファイル置き場にないか、記録された SHA-256 と一致しません（{gone.member}）",
        f"the content of document {gone.document_id} is missing from the file store or does not match its "
        f"recorded SHA-256 ({gone.member})"))


def _attempt(db: Database, files: FileStore, clock: Clock, actor: Actor, output: Path) -> Backup:
    created = clock.now()
    # Before the copy: every entry up to the checkpoint is sealed, so the copy holds them all.
    checkpoint, refused = _checkpoint(db, actor, created)
    part = output.with_name(f".{output.name}.part")
    with tempfile.TemporaryDirectory(prefix=".shingi-backup-", dir=output.parent) as folder:
        copy = (_copy_sqlite if db.is_sqlite else _copy_postgres)(db, Path(folder))
        kind = "sqlite" if db.is_sqlite else "postgresql"
        database = Member(DATABASE_MEMBERS[kind], _file_sha256(copy.path), copy.path.stat().st_size)
        # The documents' rows carry their content's SHA-256 and size: the manifest can come first.
        contents = tuple(Member(content.member, content.sha256, content.size) for content in copy.contents)
        manifest = Manifest(created, kind, copy.revision, copy.counts, checkpoint, (database, *contents))
        try:
            _write_archive(part, manifest, copy, files)
            os.replace(part, output)
        finally:
            part.unlink(missing_ok=True)
    return Backup(output, manifest, refused)


def _checkpoint(db: Database, actor: Actor, now: datetime) -> tuple[Checkpoint | None, Message | None]:
    """The audit chain's head; a head that disagrees with the entries is said, and the backup goes on.

    A database of an older schema (backed up before its upgrade) is copied as it is, without a
    checkpoint: this version reads the chain only as its own schema keeps it."""
    if migrations.current(db) != migrations.heads():
        return None, Message("スキーマが現行の版より古いため、監査記録のチェックポイントは記録していません",
                             "the schema is older than this version's: no checkpoint of the audit trail is recorded")
    try:
        return audit.checkpoint(db, actor, now), None
    except Conflict as refused:
        return None, refused.message


_REVISION = "SELECT version_num FROM alembic_version"
_COUNTS = (f"SELECT (SELECT count(*) FROM {Assessment.__tablename__}), (SELECT count(*) FROM {Document.__tablename__}),"
           f" (SELECT count(*) FROM {AuditEntry.__tablename__})")
_CONTENTS = (f"SELECT id, storage_key, sha256, size FROM {Document.__tablename__}"
             " WHERE storage_key IS NOT NULL ORDER BY id")


def _describe(rows: Callable[[str], Sequence[Sequence[Any]]], path: Path) -> _Copy:
    """What the manifest says of a copy, read in the copy's own snapshot (`rows` runs one query there)."""
    (revision,), = rows(_REVISION)
    cases, documents_, entries = rows(_COUNTS)[0]
    contents = [_Content(int(id_), str(key), str(sha256), int(size)) for id_, key, sha256, size in rows(_CONTENTS)]
    return _Copy(path, str(revision), Counts(int(cases), int(documents_), int(entries)), contents)


def _copy_sqlite(db: Database, folder: Path) -> _Copy:
    path = folder / DATABASE_MEMBERS["sqlite"]
    copy = sqlite3.connect(path)
    try:
        with db.engine.connect() as connection:
            # In one step (pages=-1): one read transaction, so one moment, while the service writes on (WAL).
            _driver(connection).backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, without a write-ahead log
        return _describe(lambda query: copy.execute(query).fetchall(), path)
    except sqlite3.Error as error:
        raise BackupError(Message(f"データベースを複製できません：{error}",
                                  f"the database could not be copied: {error}")) from None
    finally:
        copy.close()


def _driver(connection: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under SQLAlchemy's (the backup API is sqlite3's)."""
    raw = connection.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):
        raise TypeError(f"not a SQLite connection: {raw!r}")
    return raw


def _copy_postgres(db: Database, folder: Path) -> _Copy:
    path = folder / DATABASE_MEMBERS["postgresql"]
    with db.engine.execution_options(isolation_level="REPEATABLE READ").connect() as connection, connection.begin():
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        # pg_dump works in this transaction's snapshot: the dump and the counts see the same moment.
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        copy = _describe(lambda query: list(connection.exec_driver_sql(query)), path)
        _postgres_client("pg_dump", ["--format=custom", f"--snapshot={snapshot}", f"--file={path}"], db.url)
    return copy


def _postgres_client(program: str, arguments: list[str], url: str | None) -> str:
    """Run pg_dump or pg_restore (on the database of `url`); the password goes by the environment, never
    on the command line, where every user of the machine could read it. Returns what it printed."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(Message(f"{program} がありません（Debian では postgresql-client パッケージに入っています）",
                                  f"{program} is not installed (on Debian it comes with the postgresql-client package)"))
    environment = dict(os.environ)
    command = [executable, "--no-password", *arguments]
    if url is not None:
        parsed = make_url(url)
        if parsed.password is not None:
            environment["PGPASSWORD"] = str(parsed.password)
        bare = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                          database=parsed.database, query=parsed.query)  # (URL.set cannot take the password away)
        command.append(f"--dbname={bare.render_as_string(hide_password=False)}")
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines() or ["(no message)"]
        said = next((line for line in lines if "error:" in line), lines[-1])
        raise BackupError(Message(f"{program} が失敗しました：{said}", f"{program} failed: {said}"))
    return completed.stdout


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_archive(part: Path, manifest: Manifest, copy: _Copy, files: FileStore) -> None:
    at = manifest.created_at.timestamp()
    # Readable by its owner alone: it holds members-only material and the users' password hashes.
    with open(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive:
            raw = manifest.to_bytes()
            _add(archive, MANIFEST, io.BytesIO(raw), len(raw), at)
            with open(copy.path, "rb") as database:
                _add(archive, manifest.members[0].name, database, manifest.members[0].size, at)
            for content in copy.contents:
                _add_content(archive, files, content, at)
        handle.flush()
        os.fsync(handle.fileno())


def _add(archive: tarfile.TarFile, name: str, stream: BinaryIO | _Hashing, size: int, at: float) -> None:
    member = tarfile.TarInfo(name)
    member.size, member.mtime, member.mode = size, int(at), 0o600
    archive.addfile(member, stream)


class _Hashing:
    """A stream that hashes what is read from it."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.digest = stream, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk


def _add_content(archive: tarfile.TarFile, files: FileStore, content: _Content, at: float) -> None:
    """The content as its document's row describes it, or _ContentGone (purged since the copy, or damaged)."""
    try:
        with files.open(content.key) as stream:
            reader = _Hashing(stream)
            _add(archive, content.member, reader, content.size, at)  # short content: OSError
            longer = stream.read(1)
    except (OSError, ValueError):  # ValueError: not a key of the file store
        raise _ContentGone(content) from None
    if longer or reader.digest.hexdigest() != content.sha256:
        raise _ContentGone(content)


# --- restore -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    """What a restore did: the backup's manifest, the restored database's counts and the audit verdict."""

    archive: Path
    manifest: Manifest
    counts: Counts
    revision: str
    verdict: Verdict

    @property
    def ok(self) -> bool:
        return self.verdict.ok and self.counts == self.manifest.counts

    @property
    def message(self) -> Message:
        manifest, at = self.manifest, self.manifest.as_dict()["created_at"]
        counts = self.counts.message(manifest.files)
        ja = f"{self.archive}（{at} のバックアップ）を復元しました：{counts.ja}"
        en = f"restored {self.archive} (the backup of {at}): {counts.en}"
        if self.revision != manifest.revision:
            ja += f"、スキーマを {manifest.revision} から {self.revision} に更新"
            en += f"; schema upgraded from revision {manifest.revision} to {self.revision}"
        if self.counts != manifest.counts:
            ja += f"。ただしバックアップの記録は {manifest.counts.message().ja} です"
            en += f"; but the backup recorded {manifest.counts.message().en}"
        return Message(ja, en)


@dataclass(frozen=True)
class _Unpacked:
    manifest: Manifest
    database: Path
    #: file-store key → the staged content
    contents: dict[str, Path]


def restore(db: Database, files: FileStore, actor: Actor, archive: Path, *, force: bool = False) -> Restored:
    """Restore a backup into `db` and `files`, then bring its schema up to date and verify its audit chain.

    Nothing is changed before the whole archive is read and every member found to match the manifest. A
    database that holds cases is replaced only with `force`; the content its documents referred to goes
    with it. The service must not run meanwhile.
    """
    try:
        with files.staging() as folder:
            unpacked = _unpack(archive, folder)
            manifest = unpacked.manifest
            _check_target(db, manifest, force)
            for key, staged in unpacked.contents.items():
                files.place(key, staged)  # first: a database restored is never without its documents
            (_restore_sqlite if db.is_sqlite else _restore_postgres)(db, unpacked.database)
    except OSError as error:  # the archive's own faults are InvalidArchive: this is the file store's folder
        raise _cannot_write(files.root, error) from None
    db.dispose()  # no pooled connection keeps what it knew of the replaced schema
    migrations.upgrade(db)
    files.sweep(documents.live_keys(db), older_than_seconds=0)  # the replaced database's content
    revision, counts = _state(db)
    verdict = audit.verify(db, actor, checkpoint=manifest.checkpoint)
    return Restored(archive, manifest, counts, revision, verdict)


def _unpack(archive: Path, folder: Path) -> _Unpacked:
    """Read the whole archive into `folder`, checking each member against the manifest as it comes."""
    opened = False
    try:
        with tarfile.open(archive, "r:*") as tar:
            opened = True
            return _unpack_members(tar, archive, folder)
    except (tarfile.TarError, EOFError, OSError) as error:  # OSError also: a compressed archive cut short
        if opened:
            raise InvalidArchive(archive, f"壊れているか、途中で切れています（{error}）",
                                 f"it is damaged or cut short ({error})") from None
        if isinstance(error, OSError):
            raise InvalidArchive(archive, f"読めません（{error.strerror or error}）",
                                 f"it cannot be read ({error.strerror or error})") from None
        raise InvalidArchive(archive, "tar 形式のファイルではありません（shingi のバックアップではありません）",
                             "it is not a tar archive (not a shingi backup)") from None


def _unpack_members(opened: tarfile.TarFile, archive: Path, folder: Path) -> _Unpacked:
    manifest: Manifest | None = None
    expected: dict[str, Member] = {}
    staged: dict[str, Path] = {}
    for item in opened:
        if manifest is None:
            manifest = _read_manifest(opened, item, archive)
            expected = {member.name: member for member in manifest.members}
            continue
        member = expected.pop(item.name, None)
        if member is None or not item.isfile():
            raise InvalidArchive(archive, f"マニフェストにない {item.name} を含んでいます",
                                 f"it holds {item.name}, which its manifest does not list")
        staged[item.name] = _stage(opened, item, member, folder / str(len(staged)), archive)
    if manifest is None:
        raise _no_manifest(archive)
    if expected:
        missing = next(iter(expected))
        raise InvalidArchive(archive, f"壊れているか、途中で切れています（マニフェストにある {len(expected)} 個のメンバーがなく、"
                                      f"最初は {missing}）",
                             f"it is damaged or cut short: {len(expected)} of the members its manifest lists are "
                             f"missing or unreadable (the first: {missing})")
    database = staged.pop(manifest.members[0].name)
    return _Unpacked(manifest, database, {name.rsplit("/", 1)[1]: path for name, path in staged.items()})


def _cannot_write(folder: Path, error: OSError) -> BackupError:
    return BackupError(Message(f"{folder} に書き込めません：{error.strerror or error}",
                               f"cannot write into {folder}: {error.strerror or error}"))


def _no_manifest(archive: Path) -> InvalidArchive:
    return InvalidArchive(archive, "manifest.json で始まっていません（shingi のバックアップではありません）",
                          "it does not begin with a manifest.json (not a shingi backup)")


def _read_manifest(opened: tarfile.TarFile, item: tarfile.TarInfo, archive: Path) -> Manifest:
    if item.name != MANIFEST or not item.isfile() or item.size > _MANIFEST_LIMIT:
        raise _no_manifest(archive)
    stream = opened.extractfile(item)
    if stream is None:  # never: a regular file
        raise _no_manifest(archive)
    with stream:
        return parse_manifest(stream.read(), archive)


def _stage(opened: tarfile.TarFile, item: tarfile.TarInfo, member: Member, target: Path, archive: Path) -> Path:
    """The member's content written to `target`, or InvalidArchive if it is not what the manifest says."""
    stream = opened.extractfile(item)
    if stream is None:  # never: a regular file
        raise InvalidArchive(archive, f"{item.name} を読めません", f"{item.name} cannot be read")
    digest = hashlib.sha256()
    with stream, open(target, "wb") as copy:
        while chunk := stream.read(_CHUNK):  # a fault reading: the archive's (InvalidArchive, by _unpack)
            digest.update(chunk)
            try:
                copy.write(chunk)
            except OSError as error:  # a fault writing: the folder's (a full disk …)
                raise _cannot_write(target.parent, error) from None
    if item.size != member.size or digest.hexdigest() != member.sha256:
        raise InvalidArchive(archive, f"{item.name} の内容がマニフェストの SHA-256 と一致しません（破損しています）",
                             f"its member {item.name} does not match its SHA-256 in the manifest (damaged)")
    return target


def parse_manifest(raw: bytes, archive: Path) -> Manifest:
    """The manifest of `archive` from its bytes; InvalidArchive says what is wrong with it."""
    try:
        data = json.loads(raw)
    except ValueError:  # not JSON, or not UTF-8
        raise InvalidArchive(archive, "manifest.json が JSON ではありません（破損しています）",
                             "its manifest.json is not JSON (damaged)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidArchive(archive, "manifest.json が shingi のバックアップのものではありません",
                             "its manifest.json is not that of a shingi backup")
    if data.get("format_version") != FORMAT_VERSION:
        raise InvalidArchive(archive, f"形式 {data.get('format_version')!r} は、この版の shingi では読めません",
                             f"it is of format version {data.get('format_version')!r}, which this version of "
                             f"shingi cannot read")
    claimed = data.pop("sha256", None)
    if claimed != _digest(data):
        raise InvalidArchive(archive, "manifest.json が自身の SHA-256 と一致しません（破損しています）",
                             "its manifest.json does not match its own SHA-256 (damaged)")
    try:
        return _manifest_of(data)
    except (KeyError, TypeError, ValueError, InvalidCheckpoint):
        raise InvalidArchive(archive, "manifest.json の項目が正しくありません",
                             "its manifest.json has fields missing or malformed") from None


def _whole(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"not a whole number: {value!r}")
    return value


def _manifest_of(data: dict[str, Any]) -> Manifest:
    kind, revision = data["database"]["kind"], data["database"]["revision"]
    created = datetime.fromisoformat(data["created_at"])
    counts = Counts(*(_whole(data["counts"][name]) for name in ("cases", "documents", "audit_entries")))
    checkpoint = data["audit_checkpoint"]
    members = tuple(Member(item["name"], item["sha256"], _whole(item["size"])) for item in data["members"])
    names = [member.name for member in members]
    if (kind not in DATABASE_MEMBERS or not isinstance(revision, str) or created.tzinfo is None
            or not names or names[0] != DATABASE_MEMBERS[kind] or len(set(names)) != len(names)
            or not all(_FILE_MEMBER.fullmatch(name) for name in names[1:])
            or not all(isinstance(member.sha256, str) and _HEX64.fullmatch(member.sha256) for member in members)):
        raise ValueError("not a manifest")
    return Manifest(created, kind, revision, counts,
                    None if checkpoint is None else Checkpoint.from_json(json.dumps(checkpoint)),
                    members, str(data["shingi_version"]))


def _check_target(db: Database, manifest: Manifest, force: bool) -> None:
    kind = "sqlite" if db.is_sqlite else "postgresql"
    if manifest.database != kind:
        raise BackupError(Message(f"このバックアップは {manifest.database} のデータベースですが、設定されているのは {kind} です",
                                  f"the backup holds a {manifest.database} database but the configured one is {kind}"))
    if manifest.revision not in migrations.revisions():
        raise BackupError(Message(
            f"このバックアップのスキーマ（{manifest.revision}）は、この版の shingi より新しい版のものです"
            f"（shingi {manifest.shingi_version} 以降で復元してください）",
            f"the backup's schema revision {manifest.revision} is newer than this version of shingi knows "
            f"(restore it with shingi {manifest.shingi_version} or later)"))
    held = _cases_held(db)
    if held and not force:
        raise BackupError(Message(
            f"設定されているデータベースには既に案件が {held} 件あります。置き換えるには --force を付けて復元してください",
            f"the configured database already holds {_several(held, 'case')}; restore with --force to replace it "
            f"and its documents"))


def _cases_held(db: Database) -> int:
    try:
        with db.engine.connect() as connection:
            if not inspect(connection).has_table(Assessment.__tablename__):
                return 0
            return int(connection.execute(select(func.count()).select_from(table_of(Assessment))).scalar_one())
    except SQLAlchemyError as error:  # the first line names the fault (never a password)
        said = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise BackupError(Message(f"設定されているデータベースに接続できません：{said}",
                                  f"the configured database cannot be reached: {said}")) from None


def _restore_sqlite(db: Database, staged: Path) -> None:
    copy = sqlite3.connect(staged)
    try:
        with db.engine.connect() as connection:
            copy.backup(_driver(connection))  # the whole file, in one step
    except sqlite3.Error as error:
        raise BackupError(Message(f"データベースを復元できません：{error}",
                                  f"the database could not be restored: {error}")) from None
    finally:
        copy.close()


#: The schema's own tables, views and sequences (not an extension's).
_RELATIONS = text("""
    SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
""")
_KINDS = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}


def _restore_postgres(db: Database, staged: Path) -> None:
    """Empty the schema, then restore the dump into it in one transaction.

    Emptied first: `--clean` drops only what the dump holds, and a table a newer version made would stay
    and stop the migrations. The dump is read once before (`--list`), so that one this pg_restore cannot
    read (made by a newer PostgreSQL) is refused while the database is still whole.
    """
    _postgres_client("pg_restore", ["--list", str(staged)], None)
    with db.engine.begin() as connection:
        quote = connection.dialect.identifier_preparer.quote
        for name, kind in connection.execute(_RELATIONS).all():
            connection.exec_driver_sql(f"DROP {_KINDS[kind]} IF EXISTS {quote(name)} CASCADE")
    _postgres_client("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                                    "--exit-on-error", str(staged)], db.url)
    # The dump's privileges are left out (another cluster's roles); the row-security role gets its own back.
    with db.engine.begin() as connection:
        if connection.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{ROW_SECURITY_ROLE}'").first():
            for grant in (f"GRANT USAGE ON SCHEMA public TO {ROW_SECURITY_ROLE}",
                          f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROW_SECURITY_ROLE}",
                          f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {ROW_SECURITY_ROLE}"):
                connection.exec_driver_sql(grant)


def _state(db: Database) -> tuple[str, Counts]:
    """The restored database's schema revision and counts, read in one transaction."""
    with db.reading(EVERY_ORGANISATION) as session:
        connection = session.connection()
        revision = connection.exec_driver_sql(_REVISION).scalar_one()
        cases, documents_, entries = connection.exec_driver_sql(_COUNTS).one()
    return str(revision), Counts(int(cases), int(documents_), int(entries))
