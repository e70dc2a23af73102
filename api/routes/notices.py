"""The in-app inbox, the reminder rules (data the secretariat edits), and scheduled events."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, status

from api.auth import ActorDep
from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.routing import Router
from api.schemas.notices import (
    NoticeOut,
    ReminderRuleOut,
    ScheduledEventOut,
    notice_out,
    rule_out,
    scheduled_event_out,
)
from notifications import inbox, reminders
from notifications.reminders import RuleChange
from workflow import scheduled_events
from workflow.cases import MAX_ID
from workflow.scheduled_events import NewScheduledEvent
from workflow.validation import Text64

router = Router(tags=["notices"], responses=ERROR_RESPONSES)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/api/inbox", summary="お知らせ（受信箱）")
def read_inbox(services: ServicesDep, actor: ActorDep, unread: bool = False,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[NoticeOut]:
    return [notice_out(n) for n in inbox.notices(services.db, actor, unread_only=unread, limit=limit)]


@router.post("/api/inbox/{notice_id}/read", summary="お知らせを既読にする")
def mark_read(notice_id: Id, services: ServicesDep, actor: ActorDep) -> NoticeOut:
    return notice_out(inbox.mark_read(services.db, actor, notice_id, services.clock.now()))


@router.get("/api/reminder-rules", summary="リマインダーの規則")
def list_rules(services: ServicesDep, actor: ActorDep) -> list[ReminderRuleOut]:
    return [rule_out(rule) for rule in reminders.rules(services.db, actor)]


@router.patch("/api/reminder-rules/{key}", summary="リマインダーの規則を変更する（事務局）")
def change_rule(key: Annotated[Text64, Path(description="the rule's key (e.g. meeting_start_7d)")], change: RuleChange,
                services: ServicesDep, actor: ActorDep) -> ReminderRuleOut:
    return rule_out(reminders.change_rule(services.db, key, change, actor, services.clock.now()))


@router.post("/api/assessments/{case_id}/scheduled-events", status_code=status.HTTP_201_CREATED,
             summary="日時を指定して手続を自動実行する（例: 意見聴取の開始・終了）")
def schedule_event(case_id: Id, data: NewScheduledEvent, services: ServicesDep,
                   actor: ActorDep) -> ScheduledEventOut:
    return scheduled_event_out(scheduled_events.schedule(services.db, services.workflows, services.clock, case_id,
                                                         data.event, data.run_at, data.inputs, actor))


@router.get("/api/assessments/{case_id}/scheduled-events", summary="自動実行の予定")
def list_scheduled_events(case_id: Id, services: ServicesDep, actor: ActorDep) -> list[ScheduledEventOut]:
    return [scheduled_event_out(row) for row in scheduled_events.of_case(services.db, case_id, actor)]
