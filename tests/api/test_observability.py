"""The operators' endpoints over HTTP: /health answers without a database, /ready names each check and
why it fails (migrations behind, a stale heartbeat, a database that does not answer), /metrics counts
requests by route template and advances by procedure and event, reads the queues from the rows, and is
refused to others than loopback clients without the token; every request carries a request id, into its
answer and its log lines, and no log line carries a token (the pure parts: tests/unit/test_observability.py)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, text
from sqlmodel import select

from api import observability
from api.app import create_app
from notifications import heartbeat
from notifications.models import Notice, Reminder
from shingi import bootstrap, migrations
from shingi.config import Settings
from tests.helpers.core import ROOT, deliver_due
from tests.helpers.database import POSTGRES_URL
from tests.helpers.reminders import schedule_meeting
from workflow.clock import TOKYO
from workflow.organisations import EVERY_ORGANISATION

LOOPBACK = ("127.0.0.1", 50000)
METRICS_TOKEN = "scrape-me-9f8e7d6c"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def app_with(db, workflows, clock, files, **settings) -> tuple[FastAPI, bootstrap.Core]:
    """An app over the test's database, clock and files, built with these settings (SHINGI_… as keywords).
    Without the process's lifetime: no scheduler starts in the background of a test."""
    core = bootstrap.build(Settings(**{"database_url": db.url, "migrate_on_start": False, "files_dir": files.root,
                                       "scheduler": False, **settings}),
                           database=db, workflows=workflows, clock=clock, files=files)
    return create_app(core.web_services()), core


@pytest.fixture
def operator(app) -> Iterator[TestClient]:
    """A client on this machine (loopback), as a monitoring agent beside the service."""
    with TestClient(app, raise_server_exceptions=False, client=LOOPBACK) as client:
        yield client


def unreachable_url(tmp_path) -> str:
    """A database URL of the suite's kind that cannot connect: a port nobody listens on, or a directory."""
    if POSTGRES_URL:
        return "postgresql://postgres@127.0.0.1:1/shingi"
    return f"sqlite:///{tmp_path}"


@pytest.fixture
def unreachable(tmp_path, workflows, clock) -> Iterator[FastAPI]:
    """An app whose database does not answer (started without preparing: that would need the database)."""
    core = bootstrap.build(Settings(database_url=unreachable_url(tmp_path), migrate_on_start=False, scheduler=False,
                                    files_dir=tmp_path / "files"), workflows=workflows, clock=clock)
    yield create_app(core.web_services())
    core.close()


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def count(db, statement) -> int:
    with db.reading(EVERY_ORGANISATION) as session:
        return session.exec(statement).one()


# --- /health and /ready -------------------------------------------------------------------------

def test_health_answers_without_the_database(unreachable):
    with TestClient(unreachable, raise_server_exceptions=False) as client:
        response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_names_each_check(operator):
    response = operator.get("/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and set(body["checks"]) == {"database", "migrations", "scheduler"}
    assert body["checks"]["database"]["result"] == "ok"
    assert body["checks"]["migrations"] == {"result": "ok", "reason": None, "revision": "".join(migrations.heads()),
                                            "head": "".join(migrations.heads())}
    scheduler = body["checks"]["scheduler"]  # the tests' app runs no scheduler, and none is asked of it
    assert scheduler["result"] == "not_checked" and set(scheduler["reason"]) == {"ja", "en"}


@pytest.fixture
def schema_behind(db) -> Iterator[str]:
    """The database's recorded schema revision set one back (and put back after the test)."""
    head = "".join(migrations.heads())
    previous = ScriptDirectory.from_config(migrations.alembic_config(db.url)).get_revision(head).down_revision
    assert isinstance(previous, str)
    with db.writing(EVERY_ORGANISATION) as session:
        session.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": previous})
    try:
        yield previous
    finally:
        with db.writing(EVERY_ORGANISATION) as session:
            session.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": head})


def test_ready_is_503_while_the_migrations_are_behind(operator, schema_behind):
    response = operator.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    check = body["checks"]["migrations"]
    assert (check["result"], check["revision"], check["head"]) == ("failing", schema_behind, "".join(migrations.heads()))
    assert "shingi db upgrade" in check["reason"]["en"] and "shingi db upgrade" in check["reason"]["ja"]
    assert body["checks"]["database"]["result"] == "ok"


def test_ready_is_503_while_the_scheduler_of_a_worker_apart_is_late(db, workflows, clock, files):
    app, core = app_with(db, workflows, clock, files, ready_requires_scheduler=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        never = client.get("/ready")
        assert never.status_code == 503
        assert never.json()["checks"]["scheduler"]["result"] == "failing"
        assert never.json()["checks"]["scheduler"]["reason"]["en"] == "The scheduler has not swept yet."
        core.jobs().tick()  # a worker's sweep (any instance's heartbeat counts)
        fresh = client.get("/ready")
        assert fresh.status_code == 200, fresh.text
        assert fresh.json()["checks"]["scheduler"]["result"] == "ok"
        clock.advance(minutes=5)
        stale = client.get("/ready")
    assert stale.status_code == 503
    scheduler = stale.json()["checks"]["scheduler"]
    assert (scheduler["result"], scheduler["age_seconds"], scheduler["late_after_seconds"]) == ("failing", 300, 30)
    assert "300 s ago" in scheduler["reason"]["en"] and "300秒" in scheduler["reason"]["ja"]


def test_ready_checks_the_heartbeat_of_its_own_embedded_scheduler(db, workflows, clock, files):
    app, core = app_with(db, workflows, clock, files, scheduler=True)  # as `shingi serve`, its scheduler embedded
    with TestClient(app, raise_server_exceptions=False) as client:
        heartbeat.beat(db, "another-host:1", clock.now(), 0)  # another instance sweeps; this one's does not
        assert client.get("/ready").status_code == 503
        core.jobs().tick()
        response = client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["scheduler"]["instance"] == core.instance


def test_ready_is_503_when_the_database_does_not_answer(unreachable):
    with TestClient(unreachable, raise_server_exceptions=False) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["result"] == "failing"
    assert checks["database"]["reason"]["en"].startswith("The database does not answer")
    assert checks["migrations"]["result"] == "not_checked"


def test_ready_answers_in_time_though_the_database_hangs(db, workflows, clock, files, monkeypatch):
    app, _ = app_with(db, workflows, clock, files, ready_timeout_seconds=0.3)
    monkeypatch.setattr(db, "ping", lambda: time.sleep(1.5))
    with TestClient(app, raise_server_exceptions=False) as client:
        started = time.monotonic()
        first, second = client.get("/ready"), client.get("/ready")  # the second shares the hanging run
        took = time.monotonic() - started
    assert first.status_code == second.status_code == 503
    assert first.json()["checks"]["database"]["reason"]["en"] == "The database did not answer within 0.3 s."
    assert took < 1.2  # neither waited for the database


# --- /metrics ------------------------------------------------------------------------------------

def test_metrics_count_requests_by_route_template(operator, public, make_case):
    case = make_case("published")
    before = scrape(operator)
    assert public.get(f"/api/assessments/{case.id}").status_code == 200
    assert public.get("/api/assessments/424242").status_code == 404
    after = scrape(operator)
    name, route = "shingi_http_request_duration_seconds_count", "/api/assessments/{case_id}"
    assert value(after, name, route=route, method="GET", status="2xx") - value(before, name, route=route,
                                                                               method="GET", status="2xx") == 1
    assert value(after, name, route=route, method="GET", status="4xx") - value(before, name, route=route,
                                                                               method="GET", status="4xx") == 1
    routes = {dict(labels).get("route") for (_, labels) in after} - {None}
    assert not any(str(case.id) in route or "424242" in route for route in routes), routes


def test_metrics_count_advances_by_procedure_and_event(operator, client, make_case, fire):
    case = make_case("drafted")
    before = scrape(operator)
    case = fire(case, "open_public_comment", comment_start="2025-04-01", comment_end="2025-04-30")
    answered = client.post(f"/api/assessments/{case.id}/events", json={
        "event": "close_public_comment", "expected_version": case.version, "comment_count": 0})
    assert answered.status_code == 200, answered.text
    refused = client.post(f"/api/assessments/{case.id}/events", json={
        "event": "close_public_comment", "expected_version": case.version, "comment_count": 0})
    assert refused.status_code == 409  # not advanced: not counted
    after = scrape(operator)
    name = "shingi_case_advances_total"
    for event in ("open_public_comment", "close_public_comment"):
        moved = value(after, name, procedure="full_assessment", event=event) - value(
            before, name, procedure="full_assessment", event=event)
        assert moved == 1, event


@pytest.mark.usefixtures("reminder_rules")
def test_the_reminder_gauges_are_the_rows(operator, db, clock, person):
    person("member"), person("chair")
    schedule_meeting(db, clock, datetime(2025, 6, 20, 10, tzinfo=TOKYO))
    clock.set(datetime(2025, 6, 13, 9, 1, tzinfo=TOKYO))
    now = clock.now()
    pending = count(db, select(func.count()).select_from(Reminder).where(Reminder.status == "pending"))
    due = count(db, select(func.count()).select_from(Reminder).where(Reminder.status == "pending",
                                                                      Reminder.due_at <= now))
    oldest = count(db, select(func.min(Reminder.due_at)).where(Reminder.status == "pending", Reminder.due_at <= now))
    assert due >= 2 and pending > due  # the 7-day reminders are due, the 1-day ones are not
    samples = scrape(operator)
    assert value(samples, "shingi_reminders", status="pending") == pending
    assert value(samples, "shingi_reminders_due") == due
    assert value(samples, "shingi_reminder_delivery_lag_seconds") == (now - oldest).total_seconds() == 60

    deliver_due(db, clock)
    clock.advance(minutes=10)
    emails = count(db, select(func.count()).select_from(Notice).where(Notice.channel == "email",
                                                                     Notice.status == "pending"))
    inbox = count(db, select(func.count()).select_from(Notice).where(Notice.channel == "inbox"))
    assert emails == inbox == due
    samples = scrape(operator)
    assert value(samples, "shingi_reminders", status="sent") == due
    assert value(samples, "shingi_reminders", status="pending") == pending - due
    assert value(samples, "shingi_reminders_due") == value(samples, "shingi_reminder_delivery_lag_seconds") == 0
    assert value(samples, "shingi_notices", channel="inbox", status="sent") == inbox
    assert value(samples, "shingi_notices", channel="email", status="pending") == emails
    assert value(samples, "shingi_outbox_depth") == emails
    assert value(samples, "shingi_outbox_lag_seconds") == 600
    assert value(samples, "shingi_notices", channel="email", status="failed") == 0


def test_the_scheduler_jobs_are_timed_and_its_heartbeat_aged(operator, jobs, clock):
    before = scrape(operator)
    report = jobs.tick()
    assert report.failed == []
    clock.advance(seconds=42)
    after = scrape(operator)
    name = "shingi_scheduler_job_duration_seconds_count"
    for job in ("scheduled_events", "follow_changes", "deliver_reminders", "seal_audit", "heartbeat"):
        assert value(after, name, job=job) - value(before, name, job=job) == 1, job
    assert value(after, "shingi_scheduler_heartbeat_age_seconds", instance=jobs.instance) == 42


def test_a_database_that_does_not_answer_leaves_the_rest_of_the_scrape(unreachable):
    with TestClient(unreachable, raise_server_exceptions=False, client=LOOPBACK) as client:
        client.get("/health")
        first = scrape(client)
        second = scrape(client)
    assert value(second, "shingi_database_up") == 0
    assert value(second, "shingi_scrape_errors_total") - value(first, "shingi_scrape_errors_total") == 1
    assert value(second, "shingi_http_request_duration_seconds_count", route="/health", method="GET", status="2xx") >= 1
    assert not any(name == "shingi_reminders" for name, _ in second)


def test_metrics_are_refused_to_others_than_loopback_clients_without_the_token(public, person):
    for headers in ({}, person("admin").headers, person("secretariat").headers):
        response = public.get("/metrics", headers=headers)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "metrics_loopback_only"


def test_the_metrics_token_opens_them_to_any_client_and_is_then_required(db, workflows, clock, files):
    app, _ = app_with(db, workflows, clock, files, metrics_token=METRICS_TOKEN)
    with TestClient(app, raise_server_exceptions=False) as remote, \
            TestClient(app, raise_server_exceptions=False, client=LOOPBACK) as local:
        assert remote.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200
        for client, headers in [(remote, {}), (remote, {"Authorization": "Bearer wrong"}),
                                (remote, {"Authorization": METRICS_TOKEN}), (local, {})]:
            response = client.get("/metrics", headers=headers)
            assert response.status_code == 401, (headers, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"]["code"] == "metrics_token_required"


# --- request ids and the log ---------------------------------------------------------------------

def test_a_well_formed_request_id_is_answered_back(public):
    for sent in ("3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b", "trace.42:a_b", "x" * 128):
        assert public.get("/health", headers={"X-Request-ID": sent}).headers["x-request-id"] == sent


def test_a_request_id_is_made_when_none_or_a_malformed_one_is_sent(public):
    made = {public.get("/health").headers["x-request-id"], public.get("/api/nowhere").headers["x-request-id"]}
    for sent in (b"x" * 129, b"a b", b"<script>", b"", "トークン".encode(), b"id\tsplit"):
        answered = public.get("/health", headers={"X-Request-ID": sent}).headers["x-request-id"]
        assert answered.encode() != sent
        made.add(answered)
    assert len(made) == 8 and all(len(made_id) == 32 and int(made_id, 16) >= 0 for made_id in made)


@pytest.fixture
def json_log() -> Iterator[Callable[[], list[dict]]]:
    """The JSON lines the service's loggers write from INFO on, as shingi serve writes them (SHINGI_LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = observability.log_handler("json", stream)
    logger = logging.getLogger("shingi")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_the_access_line_carries_the_request_and_no_secret(public, person, make_case, json_log):
    token = person("secretariat").token
    case = make_case("drafted")
    response = public.get(f"/api/assessments/{case.id}", headers={
        "Authorization": f"Bearer {token}", "X-Request-ID": "trace-0001", "Cookie": "shingi_session=s3cr3t-cookie"})
    assert response.status_code == 200
    lines = json_log()
    assert lines and all(token not in json.dumps(line) and "s3cr3t-cookie" not in json.dumps(line) for line in lines)
    (access,) = [line for line in lines if line["logger"] == "shingi.access" and line["request_id"] == "trace-0001"]
    assert (access["method"], access["route"], access["status"], access["level"]) == (
        "GET", "/api/assessments/{case_id}", 200, "INFO")
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    assert datetime.fromisoformat(access["time"]).utcoffset() == timedelta(hours=9)
    assert set(access) >= {"time", "level", "logger", "message", "request_id", "method", "route", "status",
                           "duration_ms"}


def test_every_line_of_a_request_carries_its_id(unreachable, json_log):
    with TestClient(unreachable, raise_server_exceptions=False) as client:
        client.get("/ready", headers={"X-Request-ID": "probe-7"})
    warnings = [line for line in json_log() if line["logger"] == "shingi.ready"]
    assert warnings and warnings[0]["level"] == "WARNING" and "database" in warnings[0]["message"]
    assert {(line["request_id"], line["route"]) for line in warnings} == {("probe-7", "/ready")}


# --- several worker processes --------------------------------------------------------------------

#: One worker process: it serves /health once, and prints what /metrics answers.
WORKER = """
import sys
from fastapi.testclient import TestClient
from api.app import create_app
from shingi import bootstrap
from shingi.config import Settings
core = bootstrap.build(Settings(database_url=sys.argv[1], migrate_on_start=False, scheduler=False,
                                files_dir=sys.argv[2]))
with TestClient(create_app(core.web_services()), client=("127.0.0.1", 50000)) as client:
    client.get("/health")
    print(client.get("/metrics").text)
core.close()
"""


def test_with_a_multiprocess_directory_metrics_add_up_across_processes(db, tmp_path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    answers = [subprocess.run([sys.executable, "-c", WORKER, db.url, str(tmp_path / "files")], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=True).stdout for _ in range(2)]
    assert any(directory.iterdir())
    samples = {(sample.name, frozenset(sample.labels.items())): sample.value
               for family in text_string_to_metric_families(answers[1]) for sample in family.samples}
    assert value(samples, "shingi_http_request_duration_seconds_count", route="/health", method="GET",
                 status="2xx") == 2  # one from each process
    assert value(samples, "shingi_database_up") == 1
    assert not any(name.startswith("process_") for name, _ in samples)  # per-process facts are not added up
