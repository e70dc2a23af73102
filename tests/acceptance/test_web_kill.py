"""`shingi serve` killed with SIGKILL in the middle of a load of creations and advances: every request
that was answered 2xx is in the database afterwards, and nothing is half-written — each case has its
whole history, each history entry its case's version, and the audit chain holds every act."""

import signal
import threading
import time

import httpx
import pytest
from sqlmodel import col, select

from tests.helpers.net import serving
from tests.helpers.people import SYSTEM
from workflow import audit
from workflow.models import Assessment, AuditEntry, HistoryEntry
from workflow.organisations import EVERY_ORGANISATION

NEW_CASE = {"title": "強制終了の確認", "office": "市民課", "target_count": 400_000, "handler_count": 10,
            "serious_incident": False}


@pytest.fixture
def server(db):
    with serving({"SHINGI_DATABASE_URL": db.url}) as running:
        yield running


def test_a_killed_instance_leaves_every_answered_write_and_nothing_half_written(server, db, person):
    process, base = server
    headers = person("secretariat").headers
    answered: dict[int, int] = {}  # case id → the version a 2xx answer gave
    lock, stop = threading.Lock(), threading.Event()

    def load() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            while not stop.is_set():
                try:
                    created = client.post("/api/assessments", json=NEW_CASE)
                    if created.status_code != 201:
                        continue
                    case = created.json()
                    with lock:
                        answered[case["id"]] = case["version"]
                    advanced = client.post(f"/api/assessments/{case['id']}/events",
                                           json={"event": "start_pre_check", "expected_version": case["version"]})
                    if advanced.status_code == 200:
                        with lock:
                            answered[case["id"]] = advanced.json()["version"]
                except httpx.TransportError:
                    return  # the server is gone

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(answered) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert len(answered) >= 20, "the load did not get going"

    with db.reading(EVERY_ORGANISATION) as session:
        cases = {case.id: case for case in session.exec(select(Assessment)).all()}
        history = session.exec(select(HistoryEntry).order_by(col(HistoryEntry.id))).all()
        created = {int(entry.object_id) for entry in session.exec(
            select(AuditEntry).where(AuditEntry.action == "case.created")).all()}
    for case_id, version in answered.items():  # every 2xx answer holds
        assert case_id in cases and cases[case_id].version >= version, (case_id, version)
    for case in cases.values():  # and nothing is half-written
        story = [entry for entry in history if entry.assessment_id == case.id]
        assert [entry.version for entry in story] == list(range(1, case.version + 1)), case.id
        assert story[0].event == "created" and story[-1].to_state == case.state
    assert created == set(cases)
    verdict = audit.verify(db, SYSTEM)
    assert verdict.ok, verdict.message.en
