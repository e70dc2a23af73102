"""The policy for meetings and minutes, walked endpoint by endpoint for every role and the public
(like tests/api/test_policy.py, whose coverage test reads POLICY_PATHS). Closed (非公開) meetings do not
exist for the public and for other bodies' members: 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import cached_property
from typing import Any

import pytest

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from tests.helpers.policy import assert_answer, role_table
from workflow import documents, meetings, minutes
from workflow.clock import TOKYO
from workflow.documents import Upload
from workflow.meetings import HeldMeeting, NewMeeting
from workflow.minutes import Confirmation, CorrectionInput, MinutesDraft, Passage, SendForCorrections
from workflow.policy import Classification

#: The route templates this module's table covers, exactly as FastAPI writes them.
POLICY_PATHS = {
    "/api/meetings",
    "/api/meetings/{meeting_id}",
    "/api/meetings/{meeting_id}/cancel",
    "/api/meetings/{meeting_id}/held",
    "/api/meetings/{meeting_id}/next",
    "/api/meetings/{meeting_id}/attendance",
    "/api/meetings/{meeting_id}/materials",
    "/api/meetings/{meeting_id}/quorum",
    "/api/meetings/{meeting_id}/minutes",
    "/api/meetings/{meeting_id}/minutes/send",
    "/api/meetings/{meeting_id}/minutes/corrections",
    "/api/meetings/{meeting_id}/minutes/corrections/{correction_id}/apply",
    "/api/meetings/{meeting_id}/minutes/confirm",
    "/api/meetings/{meeting_id}/minutes/publish",
}

CLOSED = "個人情報を含む事項を審議するため"


class World:
    """Meetings of REVIEWING_BODY with 市民課's case on the agenda, one per situation an endpoint needs;
    each is made when an endpoint first asks for it (a test makes only what it uses)."""

    def __init__(self, db, clock, case_id: int, document_id: int):
        self.db, self.clock, self.document_id = db, clock, document_id
        self.agenda = [{"assessment_id": case_id, "purpose": "third_party_review",
                        "title": "全項目評価書の第三者点検について"}]

    def _meeting(self, closed: bool = False, minutes_status: str | None = None, held: bool = True) -> int:
        db, clock = self.db, self.clock
        record = meetings.schedule(db, clock, NewMeeting(
            body=REVIEWING_BODY, term="第8期", starts_at=datetime(2025, 5, 1, 18, tzinfo=TOKYO), venue="市政情報室",
            is_public=not closed, closed_reason=CLOSED if closed else None, agenda=self.agenda), SYSTEM)
        meeting_id = record.meeting.id
        if held:
            meetings.record_held(db, clock, meeting_id, HeldMeeting(expected_version=1), SYSTEM)
        if minutes_status:
            minutes.draft(db, clock, meeting_id, MinutesDraft(passages=[
                Passage(speaker="部会長", text="ただいまから第4回特定個人情報保護評価部会を開催します。"),
                Passage(speaker="実施機関", text="（非公開部分）", public=False)]), SYSTEM)
        if minutes_status in ("correcting", "confirmed", "published"):
            minutes.send_for_corrections(db, clock, meeting_id, SendForCorrections(deadline=date(2025, 6, 16)), SYSTEM)
            minutes.record_correction(db, clock, meeting_id, CorrectionInput(passage_index=0, text="訂正"), SYSTEM)
        if minutes_status in ("confirmed", "published"):
            minutes.confirm(db, clock, meeting_id, Confirmation(confirmed_by="部会長"), SYSTEM)
        if minutes_status == "published":
            minutes.publish(db, clock, meeting_id, minutes.Publication(), SYSTEM)
        return meeting_id

    @cached_property
    def upcoming(self) -> int:  # public, scheduled
        return self._meeting(held=False)

    @cached_property
    def closed(self) -> int:  # closed (非公開), scheduled
        return self._meeting(closed=True, held=False)

    @cached_property
    def held(self) -> int:  # public, held, no minutes yet (the last number, so that its next one is free)
        return self._meeting()

    @cached_property
    def drafted(self) -> int:
        return self._meeting(minutes_status="draft")

    @cached_property
    def correcting(self) -> int:  # with one correction recorded
        return self._meeting(minutes_status="correcting")

    @cached_property
    def closed_correcting(self) -> int:
        return self._meeting(closed=True, minutes_status="correcting")

    @cached_property
    def confirmed(self) -> int:
        return self._meeting(minutes_status="confirmed")

    @cached_property
    def published(self) -> int:
        return self._meeting(minutes_status="published")

    @cached_property
    def closed_published(self) -> int:
        return self._meeting(closed=True, minutes_status="published")

    @cached_property
    def correction_id(self) -> int:
        return minutes.read(self.db, self.correcting, SYSTEM).corrections[0].id


@pytest.fixture
def world(db, clock, files, make_case, person) -> World:
    person("chair")  # the body has a chair on record, whom the secretariat's confirmation names
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    document = documents.attach(db, files, clock, case.id, Upload("評価書", "hyoukasho.pdf", b"%PDF-1.4\n",
                                                                  Classification.PUBLIC), SYSTEM, 10**6)
    return World(db, clock, case.id, document.id)


def request(w: Any) -> dict[str, Callable[[], tuple[str, str, Any]]]:
    """endpoint name → what to send: (method, path, JSON body), made on demand."""
    m = "/api/meetings"
    return {
        "schedule meeting": lambda: ("POST", m, {"body": REVIEWING_BODY, "starts_at": "2025-07-03T18:00:00+09:00",
                                                 "venue": "市政情報室"}),
        "list meetings": lambda: ("GET", m, None),
        "read public meeting": lambda: ("GET", f"{m}/{w.upcoming}", None),
        "read closed meeting": lambda: ("GET", f"{m}/{w.closed}", None),
        "move public meeting": lambda: ("PATCH", f"{m}/{w.upcoming}", {"expected_version": 1, "venue": "第2会議室"}),
        "move closed meeting": lambda: ("PATCH", f"{m}/{w.closed}", {"expected_version": 1, "venue": "第2会議室"}),
        "cancel meeting": lambda: ("POST", f"{m}/{w.upcoming}/cancel", {"expected_version": 1, "reason": "台風"}),
        "record held": lambda: ("POST", f"{m}/{w.upcoming}/held", {"expected_version": 1, "observers": 0}),
        "fix next meeting": lambda: ("POST", f"{m}/{w.held}/next", {"starts_at": "2025-08-07T18:00:00+09:00"}),
        "record attendance": lambda: ("PUT", f"{m}/{w.upcoming}/attendance",
                                      {"expected_version": 1, "attendance": [{"name": "多賀谷一照", "role": "chair"}]}),
        "hand out material": lambda: ("POST", f"{m}/{w.upcoming}/materials",
                                      {"document_id": w.document_id, "label": "資料1"}),
        "quorum of public meeting": lambda: ("GET", f"{m}/{w.upcoming}/quorum", None),
        "quorum of closed meeting": lambda: ("GET", f"{m}/{w.closed}/quorum", None),
        "draft minutes": lambda: ("POST", f"{m}/{w.held}/minutes",
                                  {"passages": [{"speaker": "部会長", "text": "開会します。"}]}),
        "read published minutes": lambda: ("GET", f"{m}/{w.published}/minutes", None),
        "read full minutes": lambda: ("GET", f"{m}/{w.published}/minutes?version=full", None),
        "read draft minutes": lambda: ("GET", f"{m}/{w.drafted}/minutes", None),
        "read closed minutes": lambda: ("GET", f"{m}/{w.closed_published}/minutes", None),
        "send minutes": lambda: ("POST", f"{m}/{w.drafted}/minutes/send", {"deadline": "2025-06-16"}),
        "record correction": lambda: ("POST", f"{m}/{w.correcting}/minutes/corrections", {"text": "誤字の訂正"}),
        "record correction, closed": lambda: ("POST", f"{m}/{w.closed_correcting}/minutes/corrections",
                                              {"text": "誤字"}),
        "apply correction": lambda: ("POST", f"{m}/{w.correcting}/minutes/corrections/{w.correction_id}/apply", {}),
        "confirm minutes": lambda: ("POST", f"{m}/{w.correcting}/minutes/confirm", {}),
        "publish minutes": lambda: ("POST", f"{m}/{w.confirmed}/minutes/publish", {}),
    }


#: endpoint → expected status for:  public, secretariat, chair, member, other_member, office, other_office, admin
TABLE: dict[str, tuple[int, ...]] = {
    "schedule meeting":           (401, 201, 403, 403, 403, 403, 403, 403),
    "list meetings":              (200, 200, 200, 200, 200, 200, 200, 200),
    "read public meeting":        (200, 200, 200, 200, 200, 200, 200, 200),
    "read closed meeting":        (404, 200, 200, 200, 404, 200, 404, 200),
    "move public meeting":        (401, 200, 403, 403, 403, 403, 403, 403),
    "move closed meeting":        (404, 200, 403, 403, 404, 403, 404, 403),
    "cancel meeting":             (401, 200, 403, 403, 403, 403, 403, 403),
    "record held":                (401, 200, 403, 403, 403, 403, 403, 403),
    "fix next meeting":           (401, 201, 403, 403, 403, 403, 403, 403),
    "record attendance":          (401, 200, 403, 403, 403, 403, 403, 403),
    "hand out material":          (401, 200, 403, 403, 403, 403, 403, 403),
    "quorum of public meeting":   (200, 200, 200, 200, 200, 200, 200, 200),
    "quorum of closed meeting":   (404, 200, 200, 200, 404, 200, 404, 200),
    "draft minutes":              (401, 201, 403, 403, 403, 403, 403, 403),
    "read published minutes":     (200, 200, 200, 200, 200, 200, 200, 200),
    "read full minutes":          (401, 200, 200, 200, 403, 403, 403, 200),
    "read draft minutes":         (404, 200, 200, 200, 404, 404, 404, 200),
    "read closed minutes":        (404, 200, 200, 200, 404, 200, 404, 200),
    "send minutes":               (401, 200, 403, 403, 403, 403, 403, 403),
    "record correction":          (401, 201, 201, 201, 403, 403, 403, 403),
    "record correction, closed":  (404, 201, 201, 201, 404, 404, 404, 404),
    "apply correction":           (401, 200, 403, 403, 403, 403, 403, 403),
    "confirm minutes":            (401, 200, 200, 403, 403, 403, 403, 403),
    "publish minutes":            (401, 200, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize(("endpoint", "role", "expected"), role_table(TABLE))
def test_endpoint_by_role(as_role, world, endpoint, role, expected):
    assert_answer(as_role(role, request(world)[endpoint]), expected)


def test_the_table_covers_every_meeting_route(app):
    templates = {path for path in app.openapi()["paths"] if path.startswith("/api/meetings")}
    assert templates == POLICY_PATHS
    ids = type("Ids", (), {name: 0 for name in dir(World) if not name.startswith("_")} | {"document_id": 0})()
    covered = {make()[1].split("?")[0] for make in request(ids).values()}
    normalised = {path.replace("/0", "/{meeting_id}", 1).replace("/0/", "/{correction_id}/") for path in covered}
    assert normalised == POLICY_PATHS


@pytest.mark.parametrize(("role", "sees_closed"), [
    ("public", False), ("secretariat", True), ("chair", True), ("member", True), ("other_member", False),
    ("office", True), ("other_office", False), ("admin", True),
])
def test_listings_agree_with_the_rule(public, person, world, role, sees_closed):
    closed = {world.closed, world.closed_correcting, world.closed_published}
    opened = {world.upcoming, world.held, world.drafted, world.correcting, world.confirmed, world.published}
    headers = {} if role == "public" else person(role).headers
    page = public.get("/api/meetings", params={"limit": 200}, headers=headers).json()
    listed = {meeting["id"] for meeting in page["items"]}
    assert listed == (opened | closed if sees_closed else opened)
    assert page["total"] == len(listed)
    for meeting_id in listed:
        assert public.get(f"/api/meetings/{meeting_id}", headers=headers).status_code == 200
