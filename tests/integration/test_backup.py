"""`shingi backup` and `shingi restore`: the database and the documents' content in one archive, every member
checked against the manifest before anything is restored, and the audit chain verified against the checkpoint
taken at backup time."""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlmodel import SQLModel
from typer.testing import CliRunner

from shingi import backup as backups
from shingi import cli, migrations
from tests.helpers.cases import FULL
from tests.helpers.documents import PDF
from tests.helpers.people import SYSTEM
from workflow import audit, documents, service
from workflow.clock import TOKYO
from workflow.db import Database
from workflow.documents import Upload
from workflow.files import FileStore
from workflow.models import Assessment
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Classification


def shingi(url, files_dir, *arguments):
    """The command, in this process, on the database of `url` and the file store `files_dir`."""
    result = CliRunner().invoke(cli.app, list(arguments),
                                env={"SHINGI_DATABASE_URL": url, "SHINGI_FILES_DIR": str(files_dir)})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception  # no traceback
    return result


def attach(db, files, clock, case, content, classification=Classification.PUBLIC):
    upload = Upload("評価書", "評価書.pdf", content, classification)
    return documents.attach(db, files, clock, case.id, upload, SYSTEM, 10**6)


@pytest.fixture
def filled(db, files, clock, make_case):
    """Cases with documents (one members-only), their audit entries, and content no document refers to;
    returns the documents' content by file-store key."""
    first, second = make_case("public_comment"), make_case(procedure="consultation")
    contents = {}
    for case, content, classification in ((first, PDF, Classification.PUBLIC),
                                          (second, PDF + b"% second\n", Classification.MEMBERS_ONLY)):
        contents[attach(db, files, clock, case, content, classification).storage_key] = content
    files.put(b"left behind by a crash")
    return contents


@pytest.fixture
def archive(db, files, filled, tmp_path):
    target = tmp_path / "backup.tar"
    taken = shingi(db.url, files.root, "backup", "--output", str(target))
    assert taken.exit_code == 0, taken.output
    return target


@pytest.fixture
def opened(scratch_database):
    """opened(url) → a Database on it, disposed at the end of the test."""
    made = []

    def open_database(url):
        made.append(Database(url))
        return made[-1]

    yield open_database
    for database in made:
        database.dispose()


def manifest_of(path):
    with tarfile.open(path) as tar:
        first = tar.next()
        assert first is not None and first.name == "manifest.json"
        stream = tar.extractfile(first)
        assert stream is not None
        return json.loads(stream.read())


def rows(database):
    """Every row of every table and the schema's revision, in the order of their keys."""
    with database.engine.connect() as connection:
        everything = {"alembic_version": connection.execute(text("SELECT version_num FROM alembic_version")).all()}
        for table in SQLModel.metadata.sorted_tables:
            everything[table.name] = [dict(row._mapping) for row in connection.execute(
                select(table).order_by(*table.primary_key.columns))]
    return everything


def cases_in(database):
    with database.engine.connect() as connection:
        if not inspect(connection).has_table("assessment"):
            return None
        return connection.execute(select(func.count()).select_from(Assessment)).scalar_one()


def test_a_backup_holds_the_database_the_documents_and_a_manifest(db, files, filled, archive, clock):
    manifest = manifest_of(archive)
    head = audit.checkpoint(db, SYSTEM, clock.now())
    assert manifest["format"] == "shingi-backup" and manifest["format_version"] == 1
    assert datetime.fromisoformat(manifest["created_at"]).utcoffset() == timedelta(hours=9)  # the time in Tokyo
    assert manifest["database"] == {"kind": "sqlite" if db.is_sqlite else "postgresql", "revision": migrations.head()}
    assert manifest["counts"] == {"cases": 2, "documents": 2, "audit_entries": head.seq, "files": 2}
    assert manifest["audit_checkpoint"] == {**head.as_dict(), "at": manifest["audit_checkpoint"]["at"]}
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        hashes = {name: hashlib.sha256(tar.extractfile(name).read()).hexdigest() for name in names[1:]}
    database = "database.sqlite3" if db.is_sqlite else "database.pgdump"
    # only the content the database refers to: not what a crash left behind
    assert names == ["manifest.json", database, *(f"files/{key[:2]}/{key}" for key in filled)]  # in documents' order
    assert hashes == {member["name"]: member["sha256"] for member in manifest["members"]}
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds members-only material


def test_the_command_says_what_it_wrote_in_both_languages(db, files, filled, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    taken = shingi(db.url, files.root, "backup")
    written = list(tmp_path.glob("shingi-backup-*.tar"))
    assert taken.exit_code == 0 and len(written) == 1
    named = datetime.strptime(written[0].name, "shingi-backup-%Y%m%d-%H%M%S.tar").replace(tzinfo=TOKYO)
    assert abs(datetime.now(TOKYO) - named) < timedelta(minutes=5)  # named by the time in Tokyo
    assert f"backup written to {written[0]}: 2 cases, 2 documents" in taken.stdout
    assert "バックアップを" in taken.stdout and "案件 2 件" in taken.stdout


def test_a_round_trip_into_another_database_and_file_store(db, filled, archive, scratch_database, opened, tmp_path):
    url, restored_files = scratch_database(), tmp_path / "restored-files"
    result = shingi(url, restored_files, "restore", str(archive))
    assert result.exit_code == 0, result.output
    at = manifest_of(archive)["created_at"]
    assert f"restored {archive} (the backup of {at}): 2 cases, 2 documents (2 files), " in result.stdout
    assert "audit chain intact" in result.stdout and "agrees with the checkpoint" in result.stdout
    assert "監査記録の連鎖に異常はありません" in result.stdout
    target = opened(url)
    assert rows(target) == rows(db)
    store = FileStore(restored_files)
    assert {key: store.read(key) for key in sorted(store.keys())} == filled
    checkpoint = json.dumps(manifest_of(archive)["audit_checkpoint"])
    assert audit.verify(target, SYSTEM, checkpoint=checkpoint).ok


def test_a_database_with_cases_is_replaced_only_with_force(db, filled, archive, scratch_database, opened, tmp_path,
                                                           workflows, clock):
    url = scratch_database()
    target, target_files = opened(url), FileStore(tmp_path / "target-files")
    migrations.upgrade(target)  # this one has the tables
    own = service.create_assessment(target, workflows, clock, service.NewAssessment(**FULL), SYSTEM)
    own_key = attach(target, target_files, clock, own, PDF + b"% its own\n").storage_key

    refused = shingi(url, target_files.root, "restore", str(archive))
    assert refused.exit_code == 1
    assert refused.stderr == ("error: the configured database already holds 1 case; restore with --force to "
                              "replace it and its documents\n")
    assert cases_in(target) == 1 and target_files.exists(own_key)

    replaced = shingi(url, target_files.root, "restore", "--force", str(archive))
    assert replaced.exit_code == 0, replaced.output
    assert rows(target) == rows(db)
    assert {key: target_files.read(key) for key in sorted(target_files.keys())} == filled  # its own content gone with it


def flip_byte(data, offset):
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1:]


def member_offset(path, name):
    with tarfile.open(path) as tar:
        return tar.getmember(name).offset_data


def damaged(kind, archive, tmp_path):
    """The archive with one kind of damage, or something that is not a backup at all."""
    data = archive.read_bytes()
    manifest = manifest_of(archive)
    if kind == "a byte of a document":
        data = flip_byte(data, member_offset(archive, manifest["members"][1]["name"]) + 20)
    elif kind == "a byte of the database":
        database = manifest["members"][0]
        data = flip_byte(data, member_offset(archive, database["name"]) + database["size"] // 2)
    elif kind == "a byte of the manifest":
        at = data.index(b'"created_at": "') + len('"created_at": "202')  # the last digit of the year
        data = data[:at] + (b"1" if data[at:at + 1] != b"1" else b"2") + data[at + 1:]
    elif kind == "truncated":
        data = data[:len(data) // 2]
    elif kind == "cut after the manifest":
        data = data[:member_offset(archive, manifest["members"][0]["name"]) - 512]
    elif kind == "no manifest":
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            member = tarfile.TarInfo("database.sqlite3")
            member.size = 5
            tar.addfile(member, io.BytesIO(b"hello"))
        data = buffer.getvalue()
    elif kind == "not a tar":
        data = json.dumps(manifest).encode()
    target = tmp_path / f"{kind}.tar"
    target.write_bytes(data)
    return target


@pytest.mark.parametrize(("kind", "words"), [
    ("a byte of a document", "its member files/"),
    ("a byte of the database", "its member database."),
    ("a byte of the manifest", "its manifest.json does not match its own SHA-256 (damaged)"),
    ("truncated", "it is damaged or cut short"),
    ("cut after the manifest", "it is damaged or cut short: 3 of the members its manifest lists are missing"),
    ("no manifest", "it does not begin with a manifest.json (not a shingi backup)"),
    ("not a tar", "it is not a tar archive (not a shingi backup)"),
])
def test_a_damaged_or_foreign_archive_is_refused_before_anything_changes(archive, scratch_database, opened, tmp_path,
                                                                        kind, words):
    url, target_files = scratch_database(), tmp_path / "target-files"
    broken = damaged(kind, archive, tmp_path)
    result = shingi(url, target_files, "restore", str(broken))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {broken} cannot be restored: ") and result.stderr.count("\n") == 1
    assert words in result.stderr, result.stderr
    if kind in ("a byte of a document", "a byte of the database"):
        assert "does not match its SHA-256 in the manifest (damaged)" in result.stderr
    assert not cases_in(opened(url)) and not list(FileStore(target_files).keys())
    assert not list(target_files.glob(".staging-*"))  # nothing left behind


def test_a_damaged_archive_is_one_line_from_the_command_never_a_traceback(archive, scratch_database, tmp_path):
    broken = damaged("a byte of a document", archive, tmp_path)
    env = {**os.environ, "SHINGI_DATABASE_URL": scratch_database(), "SHINGI_FILES_DIR": str(tmp_path / "target")}
    result = subprocess.run([sys.executable, "-m", "shingi.cli", "restore", str(broken)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "does not match its SHA-256 in the manifest (damaged)" in result.stderr


def test_a_backup_taken_while_cases_are_written_is_consistent_and_restores(db, files, workflows, clock, tmp_path,
                                                                           scratch_database, opened):
    stop, written, failures = threading.Event(), [], []

    def write():
        while not stop.is_set():
            try:
                written.append(service.create_assessment(db, workflows, clock, service.NewAssessment(**FULL), SYSTEM))
            except Exception as error:  # reported below
                failures.append(error)
                return

    writer = threading.Thread(target=write)
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(written) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = len(written)
        taken = backups.back_up(db, files, clock, SYSTEM, tmp_path / "busy.tar")
        deadline = time.monotonic() + 60
        while len(written) < before + 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join(60)
    assert not failures and not writer.is_alive()
    assert before <= taken.manifest.counts.cases < len(written)  # the writer went on meanwhile

    url = scratch_database()
    result = shingi(url, tmp_path / "restored-files", "restore", str(taken.path))
    assert result.exit_code == 0, result.output
    target = opened(url)
    with target.engine.connect() as connection:
        def count(statement):
            return connection.execute(text(statement)).scalar_one()

        cases = count("SELECT count(*) FROM assessment")
        assert cases == taken.manifest.counts.cases
        # every case whole: its history and its audit entry, nothing of a case the copy does not hold
        assert count("SELECT count(*) FROM assessment_history") == cases
        assert count("SELECT count(*) FROM audit_entry WHERE action = 'case.created'") == cases
    assert audit.verify(target, SYSTEM, checkpoint=taken.manifest.checkpoint).ok


def test_content_purged_while_the_backup_runs_starts_it_again(db, files, clock, make_case, tmp_path):
    case = make_case()
    kept = attach(db, files, clock, case, PDF)
    purged = attach(db, files, clock, case, PDF + b"% to be deleted after the review\n",
                    Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW)

    class PurgedMeanwhile(FileStore):
        """The document purged (its row, then its content) just after the first copy of the database."""

        def open(self, key):
            if key == purged.storage_key and self.exists(key):
                with db.writing(EVERY_ORGANISATION) as session:
                    session.execute(text("UPDATE document SET storage_key = NULL, purged_at = :now WHERE id = :id"),
                                    {"now": clock.now(), "id": purged.id})
                self.purge(key)
            return super().open(key)

    taken = backups.back_up(db, PurgedMeanwhile(files.root), clock, SYSTEM, tmp_path / "purged.tar")
    assert [member.name for member in taken.manifest.members[1:]] == [f"files/{kept.storage_key[:2]}/{kept.storage_key}"]
    assert taken.manifest.counts.documents == 2  # the purged one's row stays, without content


def test_content_missing_from_the_file_store_is_named(db, files, clock, make_case, tmp_path):
    document = attach(db, files, clock, make_case(), PDF)
    files.purge(document.storage_key)
    result = shingi(db.url, files.root, "backup", "--output", str(tmp_path / "backup.tar"))
    assert result.exit_code == 1 and not (tmp_path / "backup.tar").exists()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]  # no part, no copy left behind
    assert f"the content of document {document.id} is missing from the file store" in result.stderr


def test_an_older_backup_is_brought_up_to_date(scratch_database, opened, tmp_path, clock):
    older = opened(scratch_database())
    with older.migration_connection() as connection:
        config = migrations.alembic_config(older.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.commit()
    taken = backups.back_up(older, FileStore(tmp_path / "older-files"), clock, SYSTEM, tmp_path / "older.tar")
    assert taken.manifest.revision == "0005"

    url = scratch_database()
    result = shingi(url, tmp_path / "restored-files", "restore", str(taken.path))
    assert result.exit_code == 0, result.output
    assert f"schema upgraded from revision 0005 to {migrations.head()}" in result.stdout
    with opened(url).engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == migrations.head()


def members_of(path):
    with tarfile.open(path) as tar:
        return [(name, tar.extractfile(name).read()) for name in tar.getnames()]


def write_tar(path, members):
    with tarfile.open(path, "w") as tar:
        for name, content in members:
            member = tarfile.TarInfo(name)
            member.size = len(content)
            tar.addfile(member, io.BytesIO(content))
    return path


def forged(archive, target, **changes):
    """The archive with its manifest changed and the manifest's own SHA-256 recomputed, as a forger could."""
    manifest = backups.parse_manifest(json.dumps(manifest_of(archive)).encode(), archive)
    return write_tar(target, [("manifest.json", replace(manifest, **changes).to_bytes()), *members_of(archive)[1:]])


def test_a_backup_of_another_kind_of_database_is_refused(db, archive, scratch_database, tmp_path):
    other = "postgresql" if db.is_sqlite else "sqlite"
    manifest = backups.parse_manifest(json.dumps(manifest_of(archive)).encode(), archive)
    empty = backups.Member(backups.DATABASE_MEMBERS[other], hashlib.sha256(b"").hexdigest(), 0)
    swapped = replace(manifest, database=other, members=(empty,))
    target = write_tar(tmp_path / "other.tar", [("manifest.json", swapped.to_bytes()), (empty.name, b"")])
    result = shingi(scratch_database(), tmp_path / "target", "restore", str(target))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the backup holds a {other} database but the configured one is")


def test_a_restored_chain_that_does_not_reach_the_checkpoint_fails(archive, scratch_database, tmp_path):
    """The checkpoint in the manifest says the chain went on further than the database in the archive holds."""
    checkpoint = backups.parse_manifest(json.dumps(manifest_of(archive)).encode(), archive).checkpoint
    further = replace(checkpoint, seq=checkpoint.seq + 2, length=checkpoint.length + 2)
    target = forged(archive, tmp_path / "forged.tar", checkpoint=further)
    result = shingi(scratch_database(), tmp_path / "target", "restore", str(target))
    assert result.exit_code == 1
    assert f"audit chain broken at entry {checkpoint.seq + 1}: the chain ends at entry {checkpoint.seq} but the " \
           "checkpoint of" in result.stderr
    assert "監査記録の連鎖が" in result.stderr


def test_a_backup_from_a_newer_version_is_refused(archive, scratch_database, opened, tmp_path):
    target = forged(archive, tmp_path / "newer.tar", revision="0099", shingi_version="9.0.0")
    url = scratch_database()
    result = shingi(url, tmp_path / "target", "restore", str(target))
    assert result.exit_code == 1
    assert "the backup's schema revision 0099 is newer than this version of shingi knows" in result.stderr
    assert not cases_in(opened(url))


def test_a_backup_is_taken_even_when_the_audit_head_disagrees(db, files, filled, scratch_database, tmp_path):
    """Nothing may stop a backup; the restore then says what is wrong with the chain."""
    audit.seal(db)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_head SET last_hash = :forged"), {"forged": "f" * 64})
    target = tmp_path / "backup.tar"
    taken = shingi(db.url, files.root, "backup", "--output", str(target))
    assert taken.exit_code == 0, taken.output
    assert "; no audit checkpoint: The head row disagrees with the entries" in taken.stdout
    assert manifest_of(target)["audit_checkpoint"] is None
    result = shingi(scratch_database(), tmp_path / "restored", "restore", str(target))
    assert result.exit_code == 1
    assert "audit chain broken at entry" in result.stderr and "the head row's hash is not that of the last entry" \
        in result.stderr


def test_the_database_password_goes_by_the_environment_never_the_command_line(monkeypatch):
    seen = {}

    def run(command, env, **_):
        seen.update(command=command, env=env)
        return subprocess.CompletedProcess(command, 1, "", "pg_dump: error: connection to server failed: FATAL: no\n"
                                                           "pg_dump: detail: more\n")

    monkeypatch.setattr(subprocess, "run", run)
    with pytest.raises(backups.BackupError, match="^pg_dump failed: pg_dump: error: connection to server failed"):
        backups._postgres_client("pg_dump", ["--format=custom"], "postgresql+psycopg://clerk:s3cret@db.example/shingi")
    assert not any("s3cret" in part for part in seen["command"])
    assert seen["command"][1:] == ["--no-password", "--format=custom", "--dbname=postgresql://clerk@db.example/shingi"]
    assert seen["env"]["PGPASSWORD"] == "s3cret"
