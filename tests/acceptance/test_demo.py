"""The demo cases replayed from the seed councils, and `shingi serve --demo` as a real process over real HTTP
(the migrations: tests/integration/test_migrations.py)."""

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import httpx
import pytest

from shingi.demo import load_demo
from tests.helpers.net import free_port
from tests.helpers.people import SYSTEM
from workflow import findings, meetings, service
from workflow.clock import TOKYO


def test_demo_replays_the_seed_councils(db, workflows, core):
    result = load_demo(db, workflows, core.papers, core.clock)
    assert not result.skipped and result.loaded >= 5
    cases = service.list_assessments(db, service.AssessmentFilter(), 100, 0, SYSTEM).items
    by_office = {(case.office, case.title): case for case in cases}
    assert len(by_office) == len(cases)
    states = {case.state for case in cases}
    assert {"subcommittee_review", "published", "public_comment", "withdrawn"} <= states
    assert {case.level for case in cases} >= {"full", "focused", "basic"}
    assert max(case.cycle for case in cases) >= 2

    chiba = next(case for case in cases if case.office == "千葉市 健康保険課")
    assert (chiba.comment_start, chiba.comment_end, chiba.comment_count) == (date(2015, 6, 22), date(2015, 7, 21), 0)
    events = [entry.event for entry in service.history(db, chiba.id, SYSTEM)]
    assert events[:3] == ["created", "start_pre_check", "open_public_comment"]  # Chiba's order
    assert events[3].startswith("close_public_comment")
    assert "report_to_plenary" in events and "publish" in events
    assert chiba.reported_on == date(2015, 8, 27)

    fukuoka = next(case for case in cases if case.office == "福岡県 行財政支援課")
    assert fukuoka.state == "subcommittee_review"
    last = service.history(db, fukuoka.id, SYSTEM)[-1]
    assert last.at.date() == date(2023, 11, 16) and "12月21日" in last.note

    held, following = meetings.list_meetings(db, meetings.MeetingFilter(), 10, 0, SYSTEM).items
    assert (held.meeting.number, held.meeting.status, following.meeting.number) == (2, "held", 3)
    assert following.meeting.starts_at == datetime(2023, 12, 21, 10, tzinfo=TOKYO)
    assert following.meeting.venue == "県庁行政棟10階 特9会議室"  # as the 2nd, unless said otherwise
    asked = findings.list_findings(db, fukuoka.id, SYSTEM)
    assert [finding.raised_by for finding in asked] == ["櫻井委員", "山元委員", "小林部会長"]
    assert {finding.status for finding in asked} == {"answered"}


@pytest.fixture
def served(db, tmp_path):
    """`shingi serve --demo` in its own process, on the suite's database; ready once /ready says so: the
    database answers, its schema is at head and the embedded scheduler has swept since the demo was loaded
    (its sweep ends with a heartbeat). A loaded CI machine may take long to start it; the deadline is in
    seconds, not tries."""
    port = free_port()
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url, "SHINGI_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "shingi.cli", "serve", "--demo"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    last: object = "no answer"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"{base}/ready", timeout=5)
                last = ready.json()
                if ready.status_code == 200 and ready.json()["status"] == "ready":
                    break
            except httpx.TransportError as error:
                last = repr(error)
            if process.poll() is not None:
                pytest.fail(f"shingi serve exited: {process.stdout.read()}")  # type: ignore[union-attr]
            time.sleep(0.2)
        else:
            pytest.fail(f"shingi serve did not report itself ready within 120 s; last /ready: {last}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_serve_demo_answers_health_and_the_demo_cases(served):
    assert httpx.get(f"{served}/health").json() == {"status": "ok"}
    checks = httpx.get(f"{served}/ready").json()["checks"]
    assert {name: check["result"] for name, check in checks.items()} == {
        "database": "ok", "migrations": "ok", "scheduler": "ok"}, checks
    procedures = {procedure["name"] for procedure in httpx.get(f"{served}/api/procedures").json()}
    assert procedures >= {"full_assessment", "focused_assessment", "basic_assessment", "consultation"}
    metrics = httpx.get(f"{served}/metrics")  # the test is a loopback client
    assert metrics.status_code == 200 and 'shingi_scheduler_job_duration_seconds_count{job="heartbeat"}' in metrics.text
    page = httpx.get(f"{served}/api/assessments", params={"limit": 200}).json()  # the public's view
    assert page["total"] >= 3 and {case["state"] for case in page["items"]} <= {"published", "public_comment"}
    assert any("住民基本台帳" in case["title"] for case in page["items"])
    assert httpx.get(f"{served}/docs").status_code == 200


def test_concurrent_http_advances_of_one_case_one_wins(served, person):
    headers = person("secretariat").headers
    case = httpx.post(f"{served}/api/assessments", headers=headers, json={
        "title": "同時操作の確認", "office": "市民課", "target_count": 400_000, "handler_count": 10,
        "serious_incident": False}).json()
    body = {"event": "start_pre_check", "expected_version": case["version"]}

    def attempt(_):
        return httpx.post(f"{served}/api/assessments/{case['id']}/events", json=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(attempt, range(8)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * 7
    assert all(r.json()["error"]["code"] == "stale_version" for r in responses if r.status_code == 409)
    history = httpx.get(f"{served}/api/assessments/{case['id']}/history", headers=headers).json()
    assert [entry["event"] for entry in history] == ["created", "start_pre_check"]
