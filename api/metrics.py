"""/metrics: the service's metrics in the Prometheus text format (prometheus-client).

Counted by the process as things happen:

- `shingi_http_request_duration_seconds{route, method, status}`: a histogram of the requests served;
  `route` is the route's template (`/api/assessments/{case_id}`, never the path asked for, so that no id
  or token is a label), `status` the class of the answer (`2xx` … `5xx`);
- `shingi_case_advances_total{procedure, event}`: events fired on cases and committed (the observer of
  `workflow.engine.Workflows`, wherever the advance came from: the API, the pages, a scheduled event);
- `shingi_scheduler_job_duration_seconds{job}`, `shingi_scheduler_job_failures_total{job}`: the jobs of a
  scheduler running in this process (a tick's jobs, `shingi.scheduler.Jobs`);
- `shingi_scrape_errors_total`: scrapes whose database part failed or timed out.

Read from the database when scraped (`notifications.monitoring`: rows every instance shares, so every
instance tells the same): `shingi_reminders{status}`, `shingi_reminders_due`,
`shingi_reminder_delivery_lag_seconds`, `shingi_notices{channel, status}`, `shingi_outbox_depth`,
`shingi_outbox_lag_seconds`, `shingi_scheduler_heartbeat_age_seconds{instance}`, and
`shingi_database_up` (0 when that read failed: the rest of the scrape is still answered). `shingi_info`
names the version and the database backend.

Several worker processes: when PROMETHEUS_MULTIPROC_DIR names a directory as the processes start
(prometheus-client decides when it is first imported), each process writes its counts to files there and
/metrics adds them up across the processes (prometheus-client's multiprocess mode); without it, each
process answers with its own counts.

Who may read: with SHINGI_METRICS_TOKEN, a request that sends it as `Authorization: Bearer …`; without
it, loopback clients only.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterable, Iterator
from datetime import datetime

from fastapi import Request
from prometheus_client import REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from api.readiness import OneAtATime
from notifications import monitoring
from notifications.monitoring import Queues
from workflow.clock import Clock
from workflow.db import Database
from workflow.engine import CaseAdvanced
from workflow.errors import DomainError, Message
from workflow.policy import Forbidden, Unauthenticated

log = logging.getLogger("shingi.metrics")

#: What /metrics answers: the Prometheus text format, version 0.0.4.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
#: As the schema names it (the charset is stated by the answer).
MEDIA_TYPE = "text/plain; version=0.0.4"

#: Read as prometheus-client reads it, once when imported: whether the counts of this process go to files
#: that every process's /metrics adds up.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None

REQUEST_SECONDS = Histogram(
    "shingi_http_request_duration_seconds", "Requests served, by route template, method and status class.",
    ("route", "method", "status"))
CASE_ADVANCES = Counter("shingi_case_advances", "Events fired on cases and committed, by procedure and event.",
                        ("procedure", "event"))
JOB_SECONDS = Histogram(
    "shingi_scheduler_job_duration_seconds", "Runs of the scheduler's jobs in this process, by job.", ("job",),
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
JOB_FAILURES = Counter("shingi_scheduler_job_failures", "Runs of the scheduler's jobs that raised, by job.", ("job",))
SCRAPE_ERRORS = Counter("shingi_scrape_errors", "Scrapes whose database part failed or did not answer in time.")

#: The methods told apart in the labels; any other is `other` (a method is text any client writes).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method if method in METHODS else "other", f"{status // 100}xx").observe(seconds)


def count_advance(change: CaseAdvanced) -> None:
    """The observer of case advances (`Workflows.observe`)."""
    CASE_ADVANCES.labels(change.procedure, change.event).inc()


def observe_job(job: str, seconds: float, failed: bool) -> None:
    """The observer of the scheduler's jobs (`shingi.scheduler.Jobs.observe`)."""
    JOB_SECONDS.labels(job).observe(seconds)
    if failed:
        JOB_FAILURES.labels(job).inc()


class MetricsTokenRequired(Unauthenticated):
    code = "metrics_token_required"

    def __init__(self) -> None:
        DomainError.__init__(self, Message("メトリクスの閲覧にはトークン（SHINGI_METRICS_TOKEN）が必要です。",
                                           "Reading the metrics needs the metrics token (SHINGI_METRICS_TOKEN)."))


class LoopbackOnly(Forbidden):
    code = "metrics_loopback_only"

    def __init__(self) -> None:
        super().__init__(Message(
            "メトリクスは、トークン（SHINGI_METRICS_TOKEN）が設定されていない間、このサーバー自身からのみ閲覧できます。",
            "Without a metrics token (SHINGI_METRICS_TOKEN), the metrics are served to this machine's own (loopback) "
            "clients only."))


def is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _age(now: datetime, then: datetime | None) -> float:
    return max((now - then).total_seconds(), 0.0) if then is not None else 0.0


def queue_families(now: datetime, queues: Queues) -> Iterator[Metric]:
    """The metrics of the queues as read at `now` (each status and channel always present, at 0 if need be)."""
    reminders = GaugeMetricFamily("shingi_reminders", "Reminders by status, as stored (all instances).", labels=["status"])
    for status in sorted({"pending", "sent", "withdrawn", "expired", *queues.reminders}):
        reminders.add_metric([status], queues.reminders.get(status, 0))
    yield reminders
    yield GaugeMetricFamily("shingi_reminders_due", "Reminders due and not yet delivered.", value=queues.due)
    yield GaugeMetricFamily("shingi_reminder_delivery_lag_seconds",
                            "Age of the oldest reminder due and not yet delivered (0 when none is).",
                            value=_age(now, queues.oldest_due_at))
    notices = GaugeMetricFamily("shingi_notices", "Notices by channel and status (failed: for good).",
                                labels=["channel", "status"])
    channels = {"inbox", "email", *(channel for channel, _ in queues.notices)}
    statuses = {"pending", "sent", "failed", *(status for _, status in queues.notices)}
    for channel in sorted(channels):
        for status in sorted(statuses):
            notices.add_metric([channel, status], queues.notices.get((channel, status), 0))
    yield notices
    yield GaugeMetricFamily("shingi_outbox_depth", "E-mail notices waiting in the outbox.", value=queues.outbox_depth)
    yield GaugeMetricFamily("shingi_outbox_lag_seconds",
                            "Age of the oldest e-mail notice waiting in the outbox (0 when none waits).",
                            value=_age(now, queues.outbox_oldest_at))
    beats = GaugeMetricFamily("shingi_scheduler_heartbeat_age_seconds",
                              "Seconds since each scheduler's last sweep (those that beat within a day, and the latest).",
                              labels=["instance"])
    for instance, at in sorted(queues.heartbeats.items()):
        beats.add_metric([instance], _age(now, at))
    yield beats


class _DatabasePart:
    """What the database tells at scrape time, read in a thread of its own within the timeout."""

    def __init__(self, db: Database, clock: Clock, *, version: str, timeout_seconds: float) -> None:
        self.db, self.clock, self.version, self.timeout_seconds = db, clock, version, timeout_seconds
        self._reads: OneAtATime[tuple[datetime, Queues]] = OneAtATime(self._read, "shingi-metrics")

    def _read(self) -> tuple[datetime, Queues]:
        now = self.clock.now()
        return now, monitoring.queues(self.db, now, timeout_seconds=self.timeout_seconds)

    def collect(self) -> Iterator[Metric]:
        yield InfoMetricFamily("shingi", "The running version and its database.", value={
            "version": self.version, "database": "sqlite" if self.db.is_sqlite else "postgresql"})
        try:
            now, queues = self._reads.result(self.timeout_seconds)
        except Exception as error:  # TimeoutError included: the process's metrics are answered all the same
            SCRAPE_ERRORS.inc()
            log.warning("metrics: the database part failed: %s: %s", type(error).__name__, error)
            yield GaugeMetricFamily("shingi_database_up", "Whether the database answered this scrape.", value=0)
            return
        yield GaugeMetricFamily("shingi_database_up", "Whether the database answered this scrape.", value=1)
        yield from queue_families(now, queues)


class _Together:
    def __init__(self, parts: Iterable[Collector]) -> None:
        self.parts = list(parts)

    def collect(self) -> Iterator[Metric]:
        for part in self.parts:
            yield from part.collect()


class Exposition:
    """/metrics of one application: who may read it, and what it answers."""

    def __init__(self, db: Database, clock: Clock, *, version: str, token: str | None, timeout_seconds: float) -> None:
        self._token = token.encode() if token else None
        # The database part first: a failure it counts is in the same answer.
        process: Collector = REGISTRY if MULTIPROCESS_DIR is None else MultiProcessCollector(None, MULTIPROCESS_DIR)
        self._collector = _Together([_DatabasePart(db, clock, version=version, timeout_seconds=timeout_seconds),
                                     process])

    def authorize(self, request: Request) -> None:
        """Refuse a reader without the token (401), or, when no token is set, one that is not loopback (403)."""
        if self._token is not None:
            scheme, _, sent = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), self._token):
                raise MetricsTokenRequired()
            return
        if request.client is None or not is_loopback(request.client.host):
            raise LoopbackOnly()

    def render(self) -> bytes:
        return generate_latest(self._collector)
