"""`shingi worker` as real processes on one database: two workers deliver 5,000 due reminders exactly once,
though one of them is killed mid-delivery."""

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from notifications.models import Notice, Reminder, ReminderRule
from tests.helpers.people import REVIEWING_BODY
from workflow import accounts
from workflow.clock import TOKYO
from workflow.models import UserAccount
from workflow.organisations import EVERY_ORGANISATION
from workflow.records import Meeting

pytestmark = pytest.mark.usefixtures("reminder_rules")


def _fill(db, meetings=50, people=100):
    """meetings × people due reminders (one rule, inbox only)."""
    now = datetime.now(TOKYO)
    with db.writing(EVERY_ORGANISATION) as session:
        rule = session.exec(select(ReminderRule).where(ReminderRule.key == "meeting_start_7d")).one()
        rule.channels = ["inbox"]
        session.add(rule)
        body = accounts.body_by_name(session, REVIEWING_BODY)
        users = [UserAccount(email=f"iin{n}@example.jp", display_name=f"委員{n}", created_at=now) for n in range(people)]
        session.add_all(users)
        rows = [Meeting(body_id=body.id, term="負荷", number=n + 1, starts_at=now + timedelta(days=3), venue="会議室",
                        created_at=now, updated_at=now) for n in range(meetings)]
        session.add_all(rows)
        session.flush()
        session.execute(Reminder.__table__.insert(), [
            {"rule_key": "meeting_start_7d", "subject_type": "meeting", "subject_id": meeting.id,
             "user_id": user.id, "fact_at": now + timedelta(days=3), "due_at": now - timedelta(minutes=5),
             "status": "pending", "created_at": now, "updated_at": now, "organisation_id": 1}
            for meeting in rows for user in users])


def _start_worker(db):
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url, "SHINGI_SWEEP_INTERVAL_SECONDS": "0.2",
           "SHINGI_SMTP_HOST": ""}
    return subprocess.Popen([sys.executable, "-m", "shingi.cli", "worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_two_workers_deliver_five_thousand_reminders_exactly_once_despite_a_kill(db):
    _fill(db)
    workers = [_start_worker(db), _start_worker(db)]
    try:
        deadline = time.monotonic() + 180
        killed = False
        while time.monotonic() < deadline:
            with db.reading(EVERY_ORGANISATION) as session:
                sent = session.exec(select(func.count()).select_from(Reminder).where(Reminder.status == "sent")).one()
            if not killed and sent > 300:
                workers[0].send_signal(signal.SIGKILL)  # mid-delivery: its open transaction is lost, not its rows
                workers[0].wait()
                workers.append(_start_worker(db))
                killed = True
            if sent == 5000:
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=20)
    assert killed
    with db.reading(EVERY_ORGANISATION) as session:
        statuses = dict(session.exec(select(Reminder.status, func.count()).group_by(Reminder.status)).all())
        notices = session.exec(select(func.count()).select_from(Notice).where(Notice.channel == "inbox")).one()
        distinct = session.exec(select(func.count(func.distinct(Notice.reminder_id)))).one()
    assert statuses == {"sent": 5000}
    assert notices == distinct == 5000
