"""Role table for the deliberation record's own endpoints: opinions, reports and replies, generated
documents, consultations, the inbox, reminder rules and scheduled events."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from notifications import reminders
from notifications.models import Notice
from tests.helpers.people import REVIEWING_BODY, SYSTEM
from tests.helpers.policy import assert_answer, role_table
from workflow import accounts, resolutions
from workflow.clock import TOKYO
from workflow.organisations import EVERY_ORGANISATION
from workflow.records import AgendaItem, Meeting

POLICY_PATHS = {
    "/api/assessments/{case_id}/opinion", "/api/assessments/{case_id}/resolutions",
    "/api/resolutions/{resolution_id}/delegate", "/api/resolutions/{resolution_id}/adopt",
    "/api/papers/convocation/{meeting_id}", "/api/papers/meeting-result/{meeting_id}",
    "/api/papers/subcommittee-report/{case_id}", "/api/papers/reply/{case_id}", "/api/papers/findings/{case_id}",
    "/api/papers/public-comment-result/{case_id}", "/api/papers/register", "/api/consultations",
    "/api/inbox", "/api/inbox/{notice_id}/read", "/api/reminder-rules", "/api/reminder-rules/{key}",
    "/api/organisation",
    "/api/assessments/{case_id}/scheduled-events",
}


@dataclass
class World:
    case: Any
    resolution: Any
    meeting: Any
    notice_id: int


@pytest.fixture
def world(make_case, db, clock, person) -> World:
    reminders.ensure_default_rules(db)
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    resolution = resolutions.draft(db, clock, case.id, resolutions.ResolutionKind.SUBCOMMITTEE_REPORT, SYSTEM,
                                   text="案")
    member = person("member")
    with db.writing(EVERY_ORGANISATION) as session:
        body = accounts.body_by_name(session, REVIEWING_BODY)
        meeting = Meeting(body_id=body.id, number=5, starts_at=datetime(2025, 7, 1, 10, tzinfo=TOKYO), venue="会議室",
                          is_public=False, closed_reason="個人情報を含むため", created_at=clock.now(),
                          updated_at=clock.now())
        session.add(meeting)
        session.flush()
        session.add(AgendaItem(meeting_id=meeting.id, position=1, assessment_id=case.id, purpose="third_party_review",
                               title="第三者点検"))
        user_id = accounts.actor_from_token(db, clock, member.token, None, cache_seconds=0).user_id
        notice = Notice(dedupe_key="policy-test:inbox", user_id=user_id, channel="inbox", kind="reminder",
                        subject="お知らせ", body_text="本文", due_at=clock.now(), status="sent", sent_at=clock.now(),
                        created_at=clock.now())
        session.add(notice)
        session.flush()
        notice_id = notice.id
    return World(case, resolution, meeting, notice_id)


def requests(w: World) -> dict[str, tuple[str, str, Any]]:
    case, meeting = w.case.id, w.meeting.id
    return {
        "record opinion": ("PUT", f"/api/assessments/{case}/opinion", {"verdict": "appropriate", "decided_on": "2025-06-01"}),
        "list resolutions": ("GET", f"/api/assessments/{case}/resolutions", None),
        "draft resolution": ("POST", f"/api/assessments/{case}/resolutions", {"kind": "reply", "text": "答申案"}),
        "delegate to chair": ("POST", f"/api/resolutions/{w.resolution.id}/delegate", {"chair": "部会長"}),
        "adopt": ("POST", f"/api/resolutions/{w.resolution.id}/adopt", {"adopted_on": "2025-06-01", "adopted_by": "部会長"}),
        "convocation of a closed meeting": ("GET", f"/api/papers/convocation/{meeting}", None),
        "meeting result of a closed meeting": ("GET", f"/api/papers/meeting-result/{meeting}", None),
        "subcommittee report": ("GET", f"/api/papers/subcommittee-report/{case}", None),
        "reply": ("GET", f"/api/papers/reply/{case}", None),
        "findings and answers": ("GET", f"/api/papers/findings/{case}", None),
        "public comment result": ("GET", f"/api/papers/public-comment-result/{case}", None),
        "plan register": ("GET", "/api/papers/register", None),
        "create consultation": ("POST", "/api/consultations", {"title": "オンライン結合について", "office": "市民課",
                                                               "consultation_type": "online_coupling"}),
        "inbox": ("GET", "/api/inbox", None),
        "mark a member's notice read": ("POST", f"/api/inbox/{w.notice_id}/read", None),
        "reminder rules": ("GET", "/api/reminder-rules", None),
        "change a rule": ("PATCH", "/api/reminder-rules/meeting_start_7d", {"offset_days": 10}),
        "the organisation": ("GET", "/api/organisation", None),
        "change the organisation": ("PATCH", "/api/organisation", {"closure_days": "12-29..01-03,08-15"}),
        "schedule an event": ("POST", f"/api/assessments/{case}/scheduled-events",
                              {"event": "request_revision", "run_at": "2025-07-01T09:00:00+09:00"}),
        "list scheduled events": ("GET", f"/api/assessments/{case}/scheduled-events", None),
    }


#: endpoint → expected status for: public, secretariat, chair, member, other_member, office, other_office, admin
TABLE = {
    "record opinion":                     (404, 200, 403, 403, 404, 403, 404, 403),
    "list resolutions":                   (404, 200, 200, 200, 404, 200, 404, 200),
    "draft resolution":                   (404, 201, 403, 403, 404, 403, 404, 403),
    "delegate to chair":                  (404, 200, 403, 403, 404, 403, 404, 403),
    "adopt":                              (404, 200, 403, 403, 404, 403, 404, 403),
    "convocation of a closed meeting":    (404, 200, 200, 200, 404, 200, 404, 200),
    "meeting result of a closed meeting": (404, 200, 200, 200, 404, 200, 404, 200),
    "subcommittee report":                (404, 200, 200, 200, 404, 200, 404, 200),
    "reply":                              (404, 200, 200, 200, 404, 200, 404, 200),
    "findings and answers":               (404, 200, 200, 200, 404, 200, 404, 200),
    "public comment result":              (404, 200, 200, 200, 404, 200, 404, 200),
    "plan register":                      (401, 200, 403, 403, 403, 403, 403, 200),
    "create consultation":                (401, 201, 403, 403, 403, 403, 403, 403),
    "inbox":                              (401, 200, 200, 200, 200, 200, 200, 200),
    "mark a member's notice read":        (401, 404, 404, 200, 404, 404, 404, 404),
    "reminder rules":                     (401, 200, 403, 403, 403, 403, 403, 403),
    "change a rule":                      (401, 200, 403, 403, 403, 403, 403, 403),
    "the organisation":                   (401, 200, 200, 200, 200, 200, 200, 200),
    "change the organisation":            (401, 200, 403, 403, 403, 403, 403, 403),
    "schedule an event":                  (404, 201, 403, 403, 404, 403, 404, 403),
    "list scheduled events":              (404, 200, 403, 403, 404, 403, 404, 403),
}


@pytest.mark.parametrize(("endpoint", "role", "expected"), role_table(TABLE))
def test_endpoint_by_role(as_role, world, endpoint, role, expected):
    assert_answer(as_role(role, requests(world)[endpoint]), expected)
