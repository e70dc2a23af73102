"""The demo cases, the migrations, and `shingi serve --demo` as a real process over real HTTP."""

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import SYSTEM
from sqlmodel import SQLModel

from shingi import migrations
from shingi.demo import DEMO_FILE, load_demo
from workflow import findings, meetings, service
from workflow.clock import TOKYO


def test_migrations_match_the_models(db):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(db):
    migrations.upgrade(db)
    migrations.upgrade(db)


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


def test_demo_is_not_loaded_twice(db, workflows, core):
    assert not load_demo(db, workflows, core.papers, core.clock).skipped
    assert load_demo(db, workflows, core.papers, core.clock).skipped


def test_demo_file_covers_all_five_seed_councils():
    import yaml

    cases = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    assert {case["seed"] for case in cases} == {"000", "001", "002", "003", "004"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(db, tmp_path):
    """`shingi serve --demo` in its own process, on the suite's database."""
    port = free_port()
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url, "SHINGI_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "shingi.cli", "serve", "--demo"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                pytest.fail(f"shingi serve exited: {process.stdout.read()}")
            time.sleep(0.2)
        else:
            pytest.fail("shingi serve did not answer /health")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_serve_demo_answers_health_and_the_demo_cases(served):
    assert httpx.get(f"{served}/health").json()["status"] == "ok"
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
