"""The audit trail: every act appended, chained by hashes; tampering in the database is detected."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, select
from typer.testing import CliRunner

from shingi import cli
from tests.helpers.people import SYSTEM
from workflow import audit
from workflow.audit import AuditActor
from workflow.errors import Conflict
from workflow.models import AuditEntry
from workflow.organisations import EVERY_ORGANISATION, Organisation
from workflow.policy import Actor, Forbidden, Role


def fill(db, clock, count=5):
    with db.writing(EVERY_ORGANISATION) as session:
        for number in range(count):
            audit.record(session, AuditActor(None, "tester", "127.0.0.1"), "test.act", at=clock.now(),
                         object_type="thing", object_id=number, detail={"n": number, "名前": "委員"})
    audit.seal(db)  # what a forger finds: entries already in the chain


def run_sql(db, statement, **params):
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_events_sign_ins_and_tokens_are_recorded(client, make_case, fire, db):
    case = fire(make_case(), "start_pre_check")
    actions = [entry.action for entry in audit.entries(db, SYSTEM, limit=1000)]
    assert {"user.added", "token.created", "case.created", "case.event"} <= set(actions)
    event = next(entry for entry in audit.entries(db, SYSTEM, limit=1000) if entry.action == "case.event")
    assert event.detail == {"event": "start_pre_check", "from": "drafted", "to": "subcommittee_review",
                            "version": case.version}


def test_an_intact_chain_verifies(db, clock):
    fill(db, clock, 20)
    verdict = audit.verify(db, SYSTEM)
    assert verdict.ok and verdict.checked == 20


def test_an_empty_chain_verifies(db):
    assert audit.verify(db, SYSTEM).ok


@pytest.mark.parametrize(("statement", "broken"), [
    ("UPDATE audit_entry SET actor = 'someone else' WHERE seq = 3", 3),
    ("UPDATE audit_entry SET detail = '{\"n\": 99}' WHERE seq = 2", 2),
    ("UPDATE audit_entry SET action = 'nothing' WHERE seq = 5", 5),
    ("DELETE FROM audit_entry WHERE seq = 3", 3),
    ("DELETE FROM audit_entry WHERE seq = 1", 1),
    ("DELETE FROM audit_entry WHERE seq = 5", 5),               # the tail
    ("DELETE FROM audit_entry WHERE seq >= 4", 4),              # several at the tail
    ("UPDATE audit_head SET last_seq = 3, length = 3", 4),      # the head rewound
])
def test_tampering_is_named(db, clock, statement, broken):
    fill(db, clock, 5)
    run_sql(db, statement)
    verdict = audit.verify(db, SYSTEM)
    assert not verdict.ok
    assert verdict.broken_seq == broken, verdict


def test_a_rehashed_entry_still_breaks_the_link(db, clock):
    """Recomputing the altered entry's own hash does not help: the next entry links to the old one."""
    fill(db, clock, 5)
    with db.writing(EVERY_ORGANISATION) as session:
        entry = session.get(audit.AuditEntry, 2)
        entry.actor = "forger"
        entry.hash = audit.entry_hash(entry)
        session.add(entry)
    verdict = audit.verify(db, SYSTEM)
    assert not verdict.ok and verdict.broken_seq == 3


def test_concurrent_appends_keep_one_chain(db, clock):
    def append(_):
        fill(db, clock, 3)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(append, range(6)))
    verdict = audit.verify(db, SYSTEM)
    assert verdict.ok and verdict.checked == 18


def test_cli_verify_names_the_first_broken_entry(db, clock):
    fill(db, clock, 4)
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url}
    command = [sys.executable, "-m", "shingi.cli", "audit", "verify"]
    intact = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert intact.returncode == 0 and "intact: 4 entries" in intact.stdout
    run_sql(db, "UPDATE audit_entry SET object_id = '999' WHERE seq = 2")
    broken = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert "broken at entry 2" in broken.stderr


# The head row and checkpoints: a fault found is a verdict in plain words, never an exception.

OFFICE = Actor(user_id=99, label="市民課 職員", roles=frozenset({Role.OFFICE}), office="市民課")


@pytest.fixture
def head_restored(db):
    """For tests that delete the head row: put it back (the `db` fixture only resets it)."""
    yield
    run_sql(db, "DELETE FROM audit_head")
    run_sql(db, "INSERT INTO audit_head (organisation_id, last_seq, last_hash, length) VALUES (1, 0, :genesis, 0)",
            genesis=audit.GENESIS)


def rewrite_history(db, from_seq, actor="forger"):
    """What a writer with access to the database can do: alter entries from `from_seq` on, recompute
    every hash after them, and move the head row to match, so that the chain alone looks whole."""
    with db.reading(EVERY_ORGANISATION) as session:
        chain = [entry.model_dump() for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))]
    previous = audit.GENESIS
    for values in chain:
        if values["seq"] >= from_seq:
            values.update(actor=actor, prev_hash=previous)
            values["hash"] = audit.entry_hash(values)
            run_sql(db, "UPDATE audit_entry SET actor = :actor, prev_hash = :prev_hash, hash = :hash WHERE seq = :seq",
                    **{name: values[name] for name in ("actor", "prev_hash", "hash", "seq")})
        previous = values["hash"]
    run_sql(db, "UPDATE audit_head SET last_hash = :hash", hash=previous)


def cut_tail(db, keep):
    """Entries after `keep` deleted and the head row rewound onto entry `keep`: the chain alone looks whole."""
    run_sql(db, "DELETE FROM audit_entry WHERE seq > :keep", keep=keep)
    run_sql(db, "UPDATE audit_head SET last_seq = :keep, length = :keep, "
                "last_hash = (SELECT hash FROM audit_entry WHERE seq = :keep)", keep=keep)


def test_a_missing_head_row_is_a_verdict(db, clock, head_restored):
    fill(db, clock, 5)
    run_sql(db, "DELETE FROM audit_head")
    with db.writing(EVERY_ORGANISATION) as session:  # an entry that cannot be sealed without the head
        audit.record(session, AuditActor(None, "tester"), "test.act", at=clock.now())
    verdict = audit.verify(db, SYSTEM)
    assert not verdict.ok and verdict.checked == 5 and verdict.pending == 1
    assert "head row (audit_head)" in verdict.reason and "missing" in verdict.reason
    assert "audit_head" in verdict.message.ja


@pytest.mark.parametrize(("statement", "broken", "words"), [
    ("UPDATE audit_head SET length = 7", None, "the head row records a length of 7 but the chain holds 5 entries"),
    ("UPDATE audit_head SET length = 4", None, "the head row records a length of 4 but the chain holds 5 entries"),
    ("UPDATE audit_head SET last_hash = '" + "f" * 64 + "'", 5, "the head row's hash is not that of the last entry, 5"),
    ("UPDATE audit_head SET last_seq = 7, length = 7", 6,
     "the chain ends at entry 5 but the head row records entries up to 7"),
    ("UPDATE audit_head SET last_seq = 3", 4,
     "the head row records entry 3 as the last but the chain goes on to entry 5"),
])
def test_a_head_row_that_disagrees_says_how(db, clock, statement, broken, words):
    fill(db, clock, 5)
    run_sql(db, statement)
    verdict = audit.verify(db, SYSTEM)
    assert not verdict.ok and verdict.broken_seq == broken
    assert words in verdict.reason, verdict
    assert verdict.message.ja.startswith("監査記録の連鎖が")


def test_a_checkpoint_is_the_head_after_sealing(db, clock):
    with db.writing(EVERY_ORGANISATION) as session:  # written, not sealed yet: the checkpoint seals them first
        for number in range(3):
            audit.record(session, AuditActor(None, "tester"), "test.act", at=clock.now(), object_id=number)
    checkpoint = audit.checkpoint(db, SYSTEM, clock.now())
    last = audit.entries(db, SYSTEM)[-1]
    assert (checkpoint.seq, checkpoint.length, checkpoint.hash) == (3, 3, last.hash)
    assert checkpoint.as_dict() == {"seq": 3, "length": 3, "hash": last.hash, "at": "2025-06-02T09:00:00+09:00"}
    assert audit.Checkpoint.from_json(checkpoint.to_json()) == checkpoint


def test_a_checkpoint_of_an_empty_chain_verifies(db, clock):
    checkpoint = audit.checkpoint(db, SYSTEM, clock.now())
    assert (checkpoint.seq, checkpoint.hash) == (0, audit.GENESIS)
    assert audit.verify(db, SYSTEM, checkpoint=checkpoint).ok


def test_a_checkpoint_is_read_like_the_audit(db, clock):
    with pytest.raises(Forbidden):
        audit.checkpoint(db, OFFICE, clock.now())


def test_a_checkpoint_of_a_broken_head_is_refused(db, clock, head_restored):
    fill(db, clock, 3)
    run_sql(db, "UPDATE audit_head SET last_hash = '" + "f" * 64 + "'")
    with pytest.raises(Conflict, match="disagrees"):
        audit.checkpoint(db, SYSTEM, clock.now())
    run_sql(db, "DELETE FROM audit_head")
    with pytest.raises(Conflict, match="missing"):
        audit.checkpoint(db, SYSTEM, clock.now())


def test_entries_after_a_checkpoint_keep_it_valid(db, clock):
    fill(db, clock, 5)
    checkpoint = audit.checkpoint(db, SYSTEM, clock.now())
    fill(db, clock, 3)
    verdict = audit.verify(db, SYSTEM, checkpoint=checkpoint)
    assert verdict.ok and verdict.checked == 8
    assert "agrees with the checkpoint of 2025-06-02T09:00:00+09:00 (entry 5)" in str(verdict)


def test_a_tail_cut_after_a_checkpoint_is_detected(db, clock):
    fill(db, clock, 5)
    checkpoint = audit.checkpoint(db, SYSTEM, clock.now())
    cut_tail(db, 3)
    assert audit.verify(db, SYSTEM).ok  # the head row rewound with the tail: the database alone cannot tell
    verdict = audit.verify(db, SYSTEM, checkpoint=checkpoint)
    assert not verdict.ok and verdict.broken_seq == 4
    assert "the chain ends at entry 3 but the checkpoint of 2025-06-02T09:00:00+09:00 records entries up to 5" \
        in verdict.reason


def test_history_rewritten_with_its_hashes_and_the_head_is_detected_only_by_a_checkpoint(db, clock):
    fill(db, clock, 5)
    checkpoint = audit.checkpoint(db, SYSTEM, clock.now())
    rewrite_history(db, 4)
    # Every hash recomputed and the head row moved along: the chain alone looks whole ...
    assert audit.verify(db, SYSTEM).ok
    # ... only the copy of the head kept outside the database shows it.
    verdict = audit.verify(db, SYSTEM, checkpoint=checkpoint)
    assert not verdict.ok and verdict.broken_seq == 5
    assert "entry 5 no longer has the hash the checkpoint of 2025-06-02T09:00:00+09:00 records" in verdict.reason


def test_a_checkpoint_still_names_a_break_before_it(db, clock):
    fill(db, clock, 5)
    checkpoint = audit.checkpoint(db, SYSTEM, clock.now())
    run_sql(db, "UPDATE audit_entry SET actor = 'someone else' WHERE seq = 2")
    verdict = audit.verify(db, SYSTEM, checkpoint=checkpoint)
    assert not verdict.ok and verdict.broken_seq == 2


GOOD = {"seq": 5, "length": 5, "hash": "a" * 64, "at": "2025-06-02T09:00:00+09:00"}


@pytest.mark.parametrize(("text", "words"), [
    ("not json {", "it is not JSON"),
    (b"\xff\xfe\x00garbage", "it is not JSON"),
    ("[1, 2]", "it is not a JSON object"),
    (json.dumps({key: value for key, value in GOOD.items() if key != "hash"}), "it lacks the field 'hash'"),
    (json.dumps({**GOOD, "seq": "5"}), "its field 'seq' is not a whole number"),
    (json.dumps({**GOOD, "length": -1}), "its field 'length' is not a whole number"),
    (json.dumps({**GOOD, "length": 4}), "its fields 'length' and 'seq' disagree"),
    (json.dumps({**GOOD, "hash": "abc"}), "its field 'hash' is not 64 hexadecimal digits"),
    (json.dumps({**GOOD, "at": "2025-06-02T09:00:00"}), "its field 'at' is not an ISO 8601 time with its offset"),
    (json.dumps({**GOOD, "at": "yesterday"}), "its field 'at' is not an ISO 8601 time with its offset"),
])
def test_a_malformed_checkpoint_is_a_verdict(db, clock, text, words):
    fill(db, clock, 5)
    verdict = audit.verify(db, SYSTEM, checkpoint=text)
    assert not verdict.ok and not verdict.walked
    assert str(verdict).startswith(f"audit chain not checked: the checkpoint file cannot be used: {words}"), verdict
    assert "チェックポイントのファイルを使えません" in verdict.message.ja


# The command: verdicts printed, exit 1 when not ok, never a traceback.

def shingi(db, *arguments):
    result = CliRunner().invoke(cli.app, list(arguments), env={"SHINGI_DATABASE_URL": db.url})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_cli_verify_without_the_head_row_gives_a_verdict(db, clock, head_restored):
    fill(db, clock, 3)
    run_sql(db, "DELETE FROM audit_head")
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url}
    result = subprocess.run([sys.executable, "-m", "shingi.cli", "audit", "verify"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "audit chain broken: the head row (audit_head), which records the end of the chain, is missing" \
        in result.stderr
    assert "監査記録の連鎖が壊れています" in result.stderr


def test_cli_checkpoint_then_verify_against_it(db, clock, tmp_path):
    fill(db, clock, 5)
    printed = shingi(db, "audit", "checkpoint")
    assert printed.exit_code == 0 and json.loads(printed.stdout)["seq"] == 5
    target = tmp_path / "checkpoint.json"
    written = shingi(db, "audit", "checkpoint", "--output", str(target))
    assert written.exit_code == 0 and f"wrote {target}" in written.stdout
    saved = json.loads(target.read_text(encoding="utf-8"))
    assert saved == json.loads(printed.stdout) | {"at": saved["at"]}
    assert datetime.fromisoformat(saved["at"]).utcoffset() == timedelta(hours=9)  # the time in Tokyo

    intact = shingi(db, "audit", "verify", "--checkpoint", str(target))
    assert intact.exit_code == 0 and "audit chain intact: 5 entries; agrees with the checkpoint" in intact.stdout
    cut_tail(db, 3)
    cut = shingi(db, "audit", "verify", "--checkpoint", str(target))
    assert cut.exit_code == 1
    assert "broken at entry 4: the chain ends at entry 3 but the checkpoint" in cut.stderr


@pytest.mark.parametrize(("content", "words"), [
    ("this is not json", "it is not JSON"),
    ('{"seq": 5, "length": 5, "at": "2025-06-02T09:00:00+09:00"}', "it lacks the field 'hash'"),
])
def test_cli_verify_names_what_is_wrong_with_a_checkpoint_file(db, clock, tmp_path, content, words):
    fill(db, clock, 2)
    target = tmp_path / "checkpoint.json"
    target.write_text(content, encoding="utf-8")
    result = shingi(db, "audit", "verify", "--checkpoint", str(target))
    assert result.exit_code == 1
    assert f"audit chain not checked: the checkpoint file cannot be used: {words}" in result.stderr


def test_cli_verifies_the_chain_of_the_organisation_it_names(db, clock, second):
    fill(db, clock, 5)
    changed = shingi(db, "organisations", "set", "402010", "--closure-days", "12-29..01-03,08-15",
                     "--closed-date", "2027-05-06")
    assert changed.exit_code == 0, changed.stderr
    assert "closed 12-29..01-03,08-15" in changed.stdout and "once 2027-05-06" in changed.stdout
    first = shingi(db, "audit", "verify")
    assert first.exit_code == 0 and "audit chain intact: 5 entries" in first.stdout
    own = shingi(db, "audit", "verify", "--organisation", "402010")
    assert own.exit_code == 0 and "audit chain intact: 1 entry" in own.stdout
    checkpoint = shingi(db, "audit", "checkpoint", "--organisation", "402010")
    assert checkpoint.exit_code == 0 and json.loads(checkpoint.stdout)["seq"] == 1
    unknown = shingi(db, "audit", "verify", "--organisation", "999999")
    assert unknown.exit_code == 1 and "no organisation with code 999999" in unknown.stderr


def test_cli_refuses_closure_days_it_cannot_read(db, clock, second):
    refused = shingi(db, "organisations", "set", "402010", "--closure-days", "12-32")
    assert refused.exit_code == 1 and "closure_days" in refused.stderr and "Traceback" not in refused.stderr
    with db.reading(EVERY_ORGANISATION) as session:
        assert session.get(Organisation, second.id).closure_days == "12-29..01-03"
