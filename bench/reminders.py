"""How fast due reminders reach the in-app inbox, and how late they are with the scheduler running.

    .venv/bin/python bench/reminders.py [--count 100000] [--database-url URL] [--spread-seconds 60]

One run measures:

a) drain: `count` reminders all due now, delivered by the sweeper in batches (no scheduler: the
   loop calls it back to back): total time and reminders per second;
b) lag: `count` reminders due at times spread evenly over `--spread-seconds` from now, with the
   real scheduler running (APScheduler BackgroundScheduler, the product's sweep interval); the
   lag of each is its delivery time (sent_at, stamped when its batch is written) minus its due
   time; reported at p50, p99 and max.
Baseline printed beside them: the goal (p99 lag < 2 s) and the rate the spread demands.
SQLite uses a temporary file; a PostgreSQL URL gets a dedicated database `shingi_bench_reminders`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0]).resolve() == BENCH_DIR:
    sys.path[0] = str(BENCH_DIR.parent)

from sqlalchemy import func, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import select  # noqa: E402

from notifications import reminders  # noqa: E402
from notifications.delivery import Deliverer  # noqa: E402
from notifications.following import Follower  # noqa: E402
from notifications.models import Reminder, ReminderRule  # noqa: E402
from shingi import migrations  # noqa: E402
from shingi.scheduler import Jobs, start_in_background  # noqa: E402
from workflow import accounts  # noqa: E402
from workflow.clock import TOKYO, SystemClock  # noqa: E402
from workflow.db import Database, normalise_url  # noqa: E402
from workflow.engine import Workflows  # noqa: E402
from workflow.models import UserAccount  # noqa: E402
from workflow.organisations import DEFAULT_ORGANISATION, EVERY_ORGANISATION  # noqa: E402
from workflow.records import AgendaItem, Meeting  # noqa: E402

PEOPLE = 1000
GOAL_P99_SECONDS = 2.0


def database(url: str | None, workdir: Path) -> tuple[Database, callable]:
    if not url:
        return Database(f"sqlite:///{workdir / 'reminders.db'}"), lambda: None
    import psycopg

    server = make_url(normalise_url(url))
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = "shingi_bench_reminders"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    db = Database(server.set(database=name).render_as_string(hide_password=False))

    def drop() -> None:
        db.dispose()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return db, drop


def setup(db: Database) -> tuple[list[int], list[int]]:
    migrations.upgrade(db)
    reminders.ensure_default_rules(db)
    now = datetime.now(TOKYO)
    with db.writing(EVERY_ORGANISATION) as session:
        rule = session.exec(select(ReminderRule).where(ReminderRule.key == "meeting_start_7d")).one()
        rule.channels = ["inbox"]  # the inbox is what this measures; e-mail has its own sender
        session.add(rule)
        body = accounts.body_by_name(session, "ベンチマーク審議会 部会")
        users = [UserAccount(email=f"iin{n}@example.jp", display_name=f"委員 {n}", created_at=now)
                 for n in range(PEOPLE)]
        session.add_all(users)
        meetings = [Meeting(body_id=body.id, term="第1期", number=n + 1, starts_at=now + timedelta(days=30),
                            venue="本庁舎 第1会議室", created_at=now, updated_at=now) for n in range(200)]
        session.add_all(meetings)
        session.flush()
        session.add_all([AgendaItem(meeting_id=m.id, position=1, purpose="third_party_review",
                                    title="特定個人情報保護評価書の第三者点検について") for m in meetings])
        return [u.id for u in users], [m.id for m in meetings]


def insert(db: Database, users: list[int], meetings: list[int], count: int, lead: float, spread: float) -> None:
    """`count` pending reminders, the first due `lead` seconds after the previous run's rows are gone
    (deleting those takes seconds on its own: counted from before it, the first would be late already)."""
    with db.writing(EVERY_ORGANISATION) as session:
        # DELETE, not TRUNCATE: on PostgreSQL the session's role (shingi_app) may not truncate.
        session.execute(text("DELETE FROM notice"))
        session.execute(text("DELETE FROM reminder"))
    now = datetime.now(TOKYO)
    first_due = now + timedelta(seconds=lead)
    rows, step = [], (spread / count if spread else 0.0)
    for n in range(count):
        rows.append({"rule_key": "meeting_start_7d", "subject_type": "meeting",
                     "subject_id": meetings[n // len(users) % len(meetings)], "user_id": users[n % len(users)],
                     "fact_at": now + timedelta(days=30), "due_at": first_due + timedelta(seconds=n * step),
                     "status": "pending", "created_at": now, "updated_at": now,
                     "organisation_id": DEFAULT_ORGANISATION})
    with db.writing(EVERY_ORGANISATION) as session:
        for start in range(0, len(rows), 10_000):
            session.execute(Reminder.__table__.insert(), rows[start:start + 10_000])


def pending(db: Database) -> int:
    with db.reading(EVERY_ORGANISATION) as session:
        return session.exec(select(func.count()).select_from(Reminder).where(Reminder.status == "pending")).one()


def any_pending(db: Database) -> bool:
    with db.reading(EVERY_ORGANISATION) as session:
        return session.exec(select(Reminder.id).where(Reminder.status == "pending").limit(1)).first() is not None


def lags(db: Database) -> list[float]:
    with db.reading(EVERY_ORGANISATION) as session:
        pairs = session.exec(select(Reminder.due_at, Reminder.sent_at).where(Reminder.status == "sent")).all()
    return sorted((sent - due).total_seconds() for due, sent in pairs)


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--spread-seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=None, help="sweep interval (default: the product's)")
    args = parser.parse_args(argv)
    from shingi.config import Settings

    interval = args.interval or Settings().sweep_interval_seconds
    with tempfile.TemporaryDirectory() as workdir:
        db, drop = database(args.database_url, Path(workdir))
        try:
            users, meetings = setup(db)
            clock = SystemClock()
            workflows = Workflows.load()
            deliverer = Deliverer(db, workflows, clock, None)
            worker = Jobs(db=db, workflows=workflows, clock=clock,
                          follower=Follower(db, workflows, clock, None), deliverer=deliverer,
                          instance="bench")

            insert(db, users, meetings, args.count, -1.0, 0)
            started = time.perf_counter()
            while deliverer.deliver_due(limit=worker.batch):
                pass
            drain = time.perf_counter() - started
            assert pending(db) == 0

            lead = 3.0  # the first reminders fall due a moment after the scheduler starts
            insert(db, users, meetings, args.count, lead, args.spread_seconds)
            scheduler = start_in_background(worker, interval)
            deadline = time.monotonic() + lead + args.spread_seconds + 120
            while time.monotonic() < deadline:  # a light check, not to compete with the sweeper for the CPU
                time.sleep(2.0)
                if not any_pending(db):
                    break
            scheduler.shutdown(wait=True)
            left = pending(db)
            observed = lags(db)
        finally:
            db.dispose()
            drop()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    demand = args.count / args.spread_seconds if args.spread_seconds else float("inf")
    print(f"reminders → in-app inbox, {backend}, {args.count:,} reminders, {PEOPLE} recipients")
    print(f"  drain (all due at once):  {drain:8.2f} s   {args.count / drain:10,.0f} reminders/s")
    print(f"  with the scheduler running (interval {interval:g} s), due over {args.spread_seconds:g} s "
          f"= {demand:,.0f}/s demanded:")
    print(f"    delivered {len(observed):,}, left pending {left:,}")
    if observed:
        print(f"    lag p50 {statistics.median(observed):6.3f} s   p99 {percentile(observed, 99):6.3f} s   "
              f"max {observed[-1]:6.3f} s   (goal: p99 < {GOAL_P99_SECONDS:g} s → "
              f"{'met' if percentile(observed, 99) < GOAL_P99_SECONDS else 'NOT met'})")
    return 0 if not left else 1


if __name__ == "__main__":
    raise SystemExit(main())
