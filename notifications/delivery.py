"""Delivery of due reminders: each becomes its notices — the in-app inbox copy delivered at once,
the e-mail left in the outbox for the sender.

Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL (any number of workers deliver
each reminder once); on SQLite the write transaction is exclusive. A reminder becomes `sent` in the
transaction that writes its notices, so a worker killed mid-batch loses nothing and doubles nothing:
its transaction rolls back and another takes over. After downtime the due rows are simply all there:
they go out once, late and saying so; a reminder ahead of a moment that has passed meanwhile expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from notifications import messages, reminders
from notifications.models import Notice, Reminder, ReminderRule
from workflow.clock import Clock
from workflow.columns import table_of
from workflow.db import Database
from workflow.engine import Workflows
from workflow.organisations import EVERY_ORGANISATION


@dataclass(frozen=True)
class Deliverer:
    db: Database
    workflows: Workflows
    clock: Clock
    #: The secretariat's own notice templates (SHINGI_TEMPLATES_DIR), or None for the shipped ones.
    templates_dir: Path | None

    def deliver_due(self, *, limit: int = 500) -> int:
        """Turn up to `limit` due reminders into notices, in one transaction. Returns how many were handled.

        No reminder of a subject changed since its last recomputation goes out before that recomputation.
        """
        now = self.clock.now()
        with self.db.writing(EVERY_ORGANISATION) as session:
            due = session.exec(self.db.claiming(
                select(Reminder).where(Reminder.status == "pending", Reminder.due_at <= now,
                                       ~reminders.of_changed_subject())
                .order_by(col(Reminder.due_at), col(Reminder.id)).limit(limit))).all()
            if not due:
                return 0
            rules = {(rule.organisation_id, rule.key): rule for rule in session.exec(
                select(ReminderRule).where(col(ReminderRule.key).in_({row.rule_key for row in due}))).all()}
            renderer = messages.ReminderRenderer(session, self.workflows, self.templates_dir,
                                                 users={row.user_id for row in due})
            outbox: list[dict[str, Any]] = []
            with session.no_autoflush:  # the batch only reads until it writes everything at the end
                for reminder in due:
                    rule = rules.get((reminder.organisation_id, reminder.rule_key))
                    if rule is None or not rule.enabled:
                        reminder.status = "withdrawn"
                    elif reminders.expired(rule, reminder.fact_at, now):
                        reminder.status = "expired"  # the meeting or deadline it announced has passed (downtime)
                    else:
                        outbox.extend({**notice, "organisation_id": reminder.organisation_id}
                                      for notice in renderer.notices(reminder, rule, now))
                        reminder.status = "sent"
                handed_over = self.clock.now()  # when the batch is written: the delivery time its rows record
                for reminder in due:
                    reminder.updated_at = handed_over
                    if reminder.status == "sent":
                        reminder.sent_at = handed_over
                for notice in outbox:
                    if notice["status"] == "sent":
                        notice["sent_at"] = handed_over
            if outbox:
                session.execute(table_of(Notice).insert(), outbox)
        return len(due)
