"""The audit trail: every act appended, chained by hashes; tampering in the database is detected."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from tests.helpers.people import SYSTEM
from workflow import audit
from workflow.audit import AuditActor


def fill(db, clock, count=5):
    with db.writing() as session:
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
    with db.writing() as session:
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
