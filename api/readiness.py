"""/ready: whether this instance can serve. Three checks, each named in the answer with its result and,
when it fails, why (in Japanese and English):

- `database`: the database answers (`SELECT 1`) within the timeout;
- `migrations`: the database's schema revision is the head of the migration scripts;
- `scheduler`: where a scheduler is expected — this process's own (SHINGI_SCHEDULER), or a worker's apart
  (SHINGI_READY_REQUIRES_SCHEDULER) — its heartbeat is fresh (`notifications.heartbeat.late_after`).

The checks run in a thread of their own (`OneAtATime`), one run at a time: a database that does not
answer holds that thread, never one of those that serve requests, and the answer comes within the
timeout whatever the database does. Callers that ask while a run is under way share it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from notifications import heartbeat
from workflow.clock import Clock
from workflow.db import Database
from workflow.errors import Message

log = logging.getLogger("shingi.ready")

T = TypeVar("T")


class OneAtATime(Generic[T]):
    """A blocking call run in a daemon thread of its own, one run at a time: callers that come while it
    runs share its result, and each waits at most until `timeout` seconds after the run began."""

    def __init__(self, call: Callable[[], T], name: str) -> None:
        self._call, self._name = call, name
        self._lock = threading.Lock()
        self._running: tuple[float, Future[T]] | None = None

    def result(self, timeout: float) -> T:
        """The call's result (or its exception); TimeoutError when it takes longer than `timeout` seconds."""
        with self._lock:
            if self._running is None or self._running[1].done():
                future: Future[T] = Future()
                future.set_running_or_notify_cancel()  # so that no waiter's timeout cancels it
                self._running = (time.monotonic(), future)
                threading.Thread(target=self._run, args=(future,), name=self._name, daemon=True).start()
            started, future = self._running
        return future.result(timeout=max(0.0, started + timeout - time.monotonic()))

    def _run(self, future: Future[T]) -> None:
        try:
            future.set_result(self._call())
        except BaseException as error:  # handed to the waiters, who decide
            future.set_exception(error)


Result = Literal["ok", "failing", "not_checked"]


@dataclass(frozen=True)
class Check:
    """The outcome of one check: its result, why it fails (or why it was not made), and what it saw."""

    result: Result
    reason: Message | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: What went wrong, for the log only (an error's text may name hosts and users: never answered).
    cause: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Report:
    database: Check
    migrations: Check
    scheduler: Check

    @property
    def checks(self) -> dict[str, Check]:
        return {"database": self.database, "migrations": self.migrations, "scheduler": self.scheduler}

    @property
    def ready(self) -> bool:
        return all(check.result != "failing" for check in self.checks.values())


@dataclass(frozen=True)
class SchemaVersions:
    """The database's schema revisions, and those of the migration scripts."""

    database: frozenset[str]
    #: Where the scripts end (what `shingi db upgrade` brings a database to).
    heads: frozenset[str]
    #: Every revision of the scripts.
    known: frozenset[str]


@dataclass(frozen=True)
class SchedulerExpected:
    """Whose heartbeat /ready checks: this process's own scheduler (`instance`), or, when None, any
    instance's (a `shingi worker` running apart)."""

    interval_seconds: float
    instance: str | None = None


def _not_checked(ja: str, en: str) -> Check:
    return Check("not_checked", Message(ja, en))


_DATABASE_DOWN = ("データベースが応答しないため確認していません。", "Not checked: the database does not answer.")
_NOT_EXPECTED = _not_checked(
    "この稼働単位ではスケジューラーの稼働を求めていません（SHINGI_SCHEDULER、SHINGI_READY_REQUIRES_SCHEDULER）。",
    "No scheduler is expected of this instance (SHINGI_SCHEDULER, SHINGI_READY_REQUIRES_SCHEDULER).")


def _failed(error: Exception, ja: str, en: str) -> Check:
    kind = type(error).__name__
    return Check("failing", Message(f"{ja}（{kind}）", f"{en} ({kind})."), cause=f"{kind}: {error}")


class Readiness:
    """The checks of /ready over one database, built once by the composition root."""

    def __init__(self, db: Database, clock: Clock, *, schema: Callable[[], SchemaVersions],
                 scheduler: SchedulerExpected | None, timeout_seconds: float) -> None:
        self.db, self.clock, self.schema, self.scheduler = db, clock, schema, scheduler
        self.timeout_seconds = timeout_seconds
        self._runs: OneAtATime[Report] = OneAtATime(self._checks, "shingi-ready")
        self._failing: set[str] = set()

    def report(self) -> Report:
        """The checks now, within `timeout_seconds` (blocking: call it from a worker thread)."""
        try:
            report = self._runs.result(self.timeout_seconds)
        except TimeoutError:
            seconds = f"{self.timeout_seconds:g}"
            report = self._without_database(Check("failing", Message(
                f"データベースが{seconds}秒以内に応答しません。", f"The database did not answer within {seconds} s.")))
        except Exception as error:  # a fault of the checks themselves: still an answer, never a 500
            report = self._without_database(_failed(error, "確認に失敗しました", "The checks failed"))
        self._log_changes(report)
        return report

    def _checks(self) -> Report:
        database = self._database()
        if database.result != "ok":
            return self._without_database(database)
        return Report(database, self._migrations(), self._scheduler())

    def _without_database(self, database: Check) -> Report:
        unchecked = _not_checked(*_DATABASE_DOWN)
        return Report(database, unchecked, _NOT_EXPECTED if self.scheduler is None else unchecked)

    def _database(self) -> Check:
        backend = "sqlite" if self.db.is_sqlite else "postgresql"
        started = time.monotonic()
        try:
            self.db.ping()
        except Exception as error:
            return _failed(error, "データベースに接続できません", "The database does not answer")
        return Check("ok", detail={"backend": backend, "seconds": round(time.monotonic() - started, 4)})

    def _migrations(self) -> Check:
        try:
            versions = self.schema()
        except Exception as error:
            return _failed(error, "データベースのスキーマの版を読み取れません", "The schema revision cannot be read")
        revision, head = ", ".join(sorted(versions.database)) or None, ", ".join(sorted(versions.heads))
        detail = {"revision": revision, "head": head}
        if versions.database == versions.heads:
            return Check("ok", detail=detail)
        if versions.database <= versions.known:
            return Check("failing", Message(
                f"データベースのスキーマが最新ではありません（データベース: {revision or 'なし'}、最新: {head}）。"
                "`shingi db upgrade` を実行してください。",
                f"The database schema is behind (the database is at {revision or 'no revision'}, the scripts at "
                f"{head}): run `shingi db upgrade`."), detail)
        return Check("failing", Message(
            f"データベースのスキーマ（{revision}）は、この版のshingiが知らない版です（より新しい版が移行した可能性があります）。",
            f"The database schema is at {revision}, which this version of shingi does not know (a newer "
            "version may have migrated it)."), detail)

    def _scheduler(self) -> Check:
        expected = self.scheduler
        if expected is None:
            return _NOT_EXPECTED
        limit = heartbeat.late_after(expected.interval_seconds).total_seconds()
        try:
            status = heartbeat.scheduler_status(self.db, self.clock.now(), expected.interval_seconds,
                                                instance=expected.instance)
        except Exception as error:
            return _failed(error, "スケジューラーの稼働記録を読み取れません", "The scheduler's heartbeat cannot be read")
        detail = {"instance": status.instance or expected.instance, "last_beat": status.last_beat,
                  "age_seconds": None if status.age_seconds is None else round(status.age_seconds, 3),
                  "late_after_seconds": limit}
        if status.age_seconds is None:
            return Check("failing", Message("スケジューラーがまだ一度も実行されていません。",
                                            "The scheduler has not swept yet."), detail)
        if status.late:
            return Check("failing", Message(
                f"スケジューラーの最後の実行から{status.age_seconds:.0f}秒が経過しています（許容: {limit:.0f}秒）。",
                f"The scheduler last swept {status.age_seconds:.0f} s ago (at most {limit:.0f} s allowed)."), detail)
        return Check("ok", detail=detail)

    def _log_changes(self, report: Report) -> None:
        """A check that starts failing is logged once, with its cause; one that recovers, once."""
        for name, check in report.checks.items():
            if check.result == "failing" and name not in self._failing:
                self._failing.add(name)
                reason = check.reason.en if check.reason else ""
                log.warning("not ready: %s: %s%s", name, reason, f" [{check.cause}]" if check.cause else "")
            elif check.result != "failing" and name in self._failing:
                self._failing.discard(name)
                log.info("ready again: %s", name)
