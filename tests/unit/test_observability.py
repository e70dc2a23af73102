"""The pure parts of observing the service, without a database: request ids, the middleware and the log
lines it leads to, loopback clients, the metrics of the queues from given counts, the readiness checks over
a stand-in database, one run at a time, the settings, and the observers of advances
(over HTTP and the database: tests/api/test_observability.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import threading
import time
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from api import metrics, observability
from api.readiness import OneAtATime, Readiness, SchemaVersions
from notifications.monitoring import Queues
from shingi.config import Settings
from workflow.clock import TOKYO, FixedClock
from workflow.engine import CaseAdvanced, Workflows

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO)


# --- request ids and the middleware -------------------------------------------------------------

@pytest.mark.parametrize("sent", ["a", "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b", "Root:1.2_3-4", "z" * 128])
def test_a_well_formed_request_id_is_kept(sent):
    assert observability.request_id(sent) == sent


@pytest.mark.parametrize("sent", [None, "", " ", "z" * 129, "a b", "a;b", "a/b", "<x>", "ü", "a\nb"])
def test_any_other_request_id_is_replaced_by_a_new_one(sent):
    made = observability.request_id(sent)
    assert made != sent and len(made) == 32 and int(made, 16) >= 0
    assert observability.request_id(sent) != made


def _serve(app, headers: list[tuple[bytes, bytes]]) -> list[dict]:
    """One GET through `observability.Observed` around `app`; the messages sent."""
    sent: list[dict] = []
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": headers}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(observability.Observed(app)(scope, receive, send))
    return sent


@pytest.fixture
def lines():
    """What the `shingi` loggers write, as JSON lines."""
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


def test_the_middleware_answers_the_id_and_puts_it_in_every_line(lines):
    async def app(scope, receive, send):
        logging.getLogger("shingi.test").warning("inside, seeing %s", observability.current().request_id)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent = _serve(app, [(b"x-request-id", b"given-1"), (b"authorization", b"Bearer secret-token")])
    assert (b"x-request-id", b"given-1") in sent[0]["headers"]
    inside, accessed = lines()
    assert (inside["message"], inside["request_id"], inside["method"], inside["route"]) == (
        "inside, seeing given-1", "given-1", "GET", None)  # routed by no router: no template
    assert (accessed["logger"], accessed["status"], accessed["request_id"]) == ("shingi.access", 204, "given-1")
    assert accessed["message"].startswith("GET unmatched 204 ") and "secret-token" not in json.dumps([inside, accessed])
    assert observability.current() is None


def test_an_error_no_answer_got_out_of_is_a_500_in_the_access_line(lines):
    async def app(scope, receive, send):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        _serve(app, [])
    (accessed,) = lines()
    assert accessed["status"] == 500 and len(accessed["request_id"]) == 32


def test_a_json_line_has_every_field_and_its_exception():
    try:
        raise ValueError("wrong")
    except ValueError:
        record = logging.LogRecord("shingi.x", logging.ERROR, __file__, 1, "会議 %s", ("第3回",), sys.exc_info())
    record.created = NOW.timestamp()
    line = json.loads(observability.JsonLines().format(record))
    assert line["time"] == "2025-06-02T09:00:00.000+09:00" and line["message"] == "会議 第3回"
    assert (line["level"], line["logger"]) == ("ERROR", "shingi.x")
    assert set(observability.FIELDS) <= set(line) and line["request_id"] is None
    assert "ValueError: wrong" in line["exception"]
    text = observability.TextLines().format(record)
    assert text.startswith("2025-06-02T09:00:00.000+09:00 ERROR shingi.x [-] 会議 第3回\nTraceback")


# --- who may read the metrics ---------------------------------------------------------------------

@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("10.0.0.1", False), ("192.168.1.5", False), ("::ffff:10.0.0.1", False), ("2001:db8::1", False),
    ("testclient", False), ("localhost", False), ("", False),
])
def test_loopback_clients(host, loopback):
    assert metrics.is_loopback(host) is loopback


# --- the metrics of the queues --------------------------------------------------------------------

def test_the_queues_become_gauges_with_every_status_present():
    queues = Queues(reminders={"pending": 5, "sent": 7}, due=2, oldest_due_at=NOW - timedelta(minutes=3),
                    notices={("email", "pending"): 4, ("email", "failed"): 1, ("inbox", "sent"): 7},
                    outbox_oldest_at=NOW - timedelta(seconds=90),
                    heartbeats={"web-1:10": NOW - timedelta(seconds=2), "worker:20": NOW - timedelta(hours=2)})
    samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in metrics.queue_families(NOW, queues) for sample in family.samples}
    assert samples[("shingi_reminders", (("status", "pending"),))] == 5
    assert samples[("shingi_reminders", (("status", "expired"),))] == 0
    assert samples[("shingi_reminders_due", ())] == 2
    assert samples[("shingi_reminder_delivery_lag_seconds", ())] == 180
    assert samples[("shingi_notices", (("channel", "email"), ("status", "failed")))] == 1
    assert samples[("shingi_notices", (("channel", "inbox"), ("status", "failed")))] == 0
    assert samples[("shingi_outbox_depth", ())] == 4 and samples[("shingi_outbox_lag_seconds", ())] == 90
    assert samples[("shingi_scheduler_heartbeat_age_seconds", (("instance", "worker:20"),))] == 7200


def test_empty_queues_have_no_lag():
    queues = Queues(reminders={}, due=0, oldest_due_at=None, notices={}, outbox_oldest_at=None, heartbeats={})
    samples = {sample.name: sample.value for family in metrics.queue_families(NOW, queues)
               for sample in family.samples if not sample.labels}
    assert samples == {"shingi_reminders_due": 0, "shingi_reminder_delivery_lag_seconds": 0,
                       "shingi_outbox_depth": 0, "shingi_outbox_lag_seconds": 0}


# --- one run at a time ----------------------------------------------------------------------------

def test_callers_share_a_run_and_wait_no_longer_than_told():
    calls, release = [], threading.Event()

    def slow() -> int:
        calls.append(1)
        release.wait(5)
        return len(calls)

    runs = OneAtATime(slow, "test")
    started = time.monotonic()
    for _ in range(3):
        with pytest.raises(TimeoutError):
            runs.result(0.05)
    assert time.monotonic() - started < 1 and calls == [1]  # one run, however many asked
    release.set()
    assert runs.result(5) == 1
    assert runs.result(5) == 2  # the run was over: a new one


def test_a_run_that_raises_raises_to_its_callers():
    def broken() -> int:
        raise LookupError("no")

    with pytest.raises(LookupError):
        OneAtATime(broken, "test").result(1)


# --- the readiness checks -------------------------------------------------------------------------

class StandIn:
    """What Readiness asks of a database when no scheduler is expected."""

    is_sqlite = True

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def ping(self) -> None:
        if self.error is not None:
            raise self.error


def readiness(db: StandIn, database: set[str], heads=frozenset({"0006"})) -> Readiness:
    known = frozenset({"0005", "0006"})
    return Readiness(db, FixedClock(NOW), scheduler=None, timeout_seconds=1,
                     schema=lambda: SchemaVersions(frozenset(database), heads, known))


def test_ready_at_head():
    report = readiness(StandIn(), {"0006"}).report()
    assert report.ready and report.migrations.result == "ok" and report.scheduler.result == "not_checked"


@pytest.mark.parametrize(("database", "says"), [({"0005"}, "behind"), (set(), "no revision"),
                                                ({"0099"}, "does not know")])
def test_not_ready_off_head(database, says):
    report = readiness(StandIn(), database).report()
    assert not report.ready and report.migrations.result == "failing"
    assert report.migrations.reason is not None and says in report.migrations.reason.en


def test_a_database_that_raises_is_a_failing_check_and_its_cause_stays_in_the_log(caplog):
    report = readiness(StandIn(ConnectionError("host db.internal refused")), {"0006"}).report()
    assert not report.ready and report.database.result == "failing"
    assert report.database.reason is not None and "db.internal" not in report.database.reason.en
    assert "ConnectionError" in report.database.reason.en
    assert report.migrations.result == report.scheduler.result == "not_checked"
    assert "db.internal" in caplog.text  # logged once, with its cause


# --- the settings ---------------------------------------------------------------------------------

def test_the_log_settings_are_read_in_any_case():
    settings = Settings(log_format="JSON", log_level="warning")
    assert (settings.log_format, settings.log_level) == ("json", "WARNING")
    with pytest.raises(ValidationError):
        Settings(log_level="loud")
    with pytest.raises(ValidationError):
        Settings(log_format="xml")


def test_an_empty_metrics_token_is_no_token():
    assert Settings(metrics_token="").metrics_token is None
    assert Settings(metrics_token=" t ").metrics_token is not None


@pytest.mark.parametrize(("scheduler", "required", "expected"), [
    (True, None, True), (False, None, False), (False, True, True), (True, False, False)])
def test_whether_ready_asks_for_a_scheduler(scheduler, required, expected):
    assert Settings(scheduler=scheduler, ready_requires_scheduler=required).expects_scheduler is expected


# --- the observers of advances --------------------------------------------------------------------

def test_an_observer_is_told_once_and_one_that_raises_stops_nothing(caplog):
    workflows, told = Workflows({}), []

    def broken(change: CaseAdvanced) -> None:
        raise RuntimeError("observer bug")

    workflows.observe(told.append)
    workflows.observe(broken)
    workflows.observe(told.append)
    change = CaseAdvanced(1, "full_assessment", "withdraw", "drafted", "withdrawn")
    workflows.advanced(change)
    assert told == [change] and "observer bug" in caplog.text
